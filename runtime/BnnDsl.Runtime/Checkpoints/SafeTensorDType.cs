// The element types a safetensors file of this project may hold, named as the format spells them.
namespace BnnDsl.Runtime.Checkpoints;

/// <summary>Element type of a <see cref="SafeTensor"/>; the names are the safetensors <c>dtype</c> strings.</summary>
public enum SafeTensorDType
{
    /// <summary>32-bit float: latent weights, float layers, optimizer state.</summary>
    F32,
    /// <summary>32-bit signed integer: thresholds.</summary>
    I32,
    /// <summary>64-bit unsigned integer: packed binary weights.</summary>
    U64,
    /// <summary>Unsigned byte.</summary>
    U8,
}

/// <summary>Sizes and names of <see cref="SafeTensorDType"/> values.</summary>
public static class SafeTensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 or SafeTensorDType.I32 => 4,
        SafeTensorDType.U64 => 8,
        SafeTensorDType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "dtype must be F32, I32, U64 or U8."),
    };

    /// <summary>Parses a safetensors <c>dtype</c> string; false for types this project does not read.</summary>
    public static bool TryParse(string text, out SafeTensorDType dtype)
    {
        switch (text)
        {
            case "F32": dtype = SafeTensorDType.F32; return true;
            case "I32": dtype = SafeTensorDType.I32; return true;
            case "U64": dtype = SafeTensorDType.U64; return true;
            case "U8": dtype = SafeTensorDType.U8; return true;
            default: dtype = default; return false;
        }
    }
}
