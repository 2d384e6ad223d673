// One tensor of a safetensors file: name, element type, shape and its little-endian bytes.
using System.Runtime.InteropServices;

namespace BnnDsl.Runtime.Checkpoints;

/// <summary>
/// A named tensor as a safetensors file stores it: <see cref="Data"/> holds product(<see cref="Shape"/>) elements of
/// <see cref="DType"/>, row-major, little-endian. A shape of <c>[]</c> is a scalar (one element); dimensions may be 0.
/// Create one with <see cref="Create{T}"/> or the typed helpers; read values back with <see cref="As{T}"/>.
/// </summary>
public sealed class SafeTensor
{
    /// <summary>Wraps <paramref name="data"/> (not copied), checking its length against the shape.</summary>
    public SafeTensor(string name, SafeTensorDType dtype, int[] shape, ReadOnlyMemory<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long elements = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"Tensor '{name}' has a dimension of {dim}; dimensions must be >= 0.", nameof(shape));
            elements = checked(elements * dim);
        }
        if (data.Length != elements * dtype.Size())
            throw new ArgumentException($"Tensor '{name}' holds {data.Length} bytes, but shape [{string.Join(", ", shape)}] of {dtype} needs {elements * dtype.Size()}.", nameof(data));
        Name = name;
        DType = dtype;
        Shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>The tensor's key in the file.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>The elements' little-endian bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Number of elements.</summary>
    public long Elements => Data.Length / DType.Size();

    /// <summary>A tensor holding a copy of <paramref name="values"/>; <typeparamref name="T"/> is float, int, ulong or byte.</summary>
    public static SafeTensor Create<T>(string name, int[] shape, ReadOnlySpan<T> values)
        where T : unmanaged =>
        new(name, DTypeOf<T>(), shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The elements as <typeparamref name="T"/>, which must match <see cref="DType"/> (float, int, ulong, byte).</summary>
    public ReadOnlySpan<T> As<T>()
        where T : unmanaged
    {
        if (DTypeOf<T>() != DType)
            throw new InvalidOperationException($"Tensor '{Name}' holds {DType}, not {typeof(T).Name}; read it as the type its dtype names.");
        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    private static SafeTensorDType DTypeOf<T>()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is big-endian.");
        if (typeof(T) == typeof(float)) return SafeTensorDType.F32;
        if (typeof(T) == typeof(int)) return SafeTensorDType.I32;
        if (typeof(T) == typeof(ulong)) return SafeTensorDType.U64;
        if (typeof(T) == typeof(byte)) return SafeTensorDType.U8;
        throw new NotSupportedException($"{typeof(T).Name} has no safetensors dtype here; use float, int, ulong or byte.");
    }
}
