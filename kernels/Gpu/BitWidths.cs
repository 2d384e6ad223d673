// Compile-time bit widths of the GPU bit-serial GEMM: struct type parameters, one kernel per pair of widths.
namespace BnnDsl.Kernels.Gpu;

/// <summary>Activation and weight bit widths, read in kernels through <c>default(TBits)</c> as constants.</summary>
public interface IBitWidths
{
    /// <summary>Bits per activation code, 2..8.</summary>
    int ActivationBits { get; }

    /// <summary>Bits per weight code, 1..8.</summary>
    int WeightBits { get; }
}

/// <summary>2-bit activations, 1-bit weights.</summary>
public readonly struct A2W1 : IBitWidths
{
    public int ActivationBits => 2;
    public int WeightBits => 1;
}

/// <summary>2-bit activations, 2-bit weights.</summary>
public readonly struct A2W2 : IBitWidths
{
    public int ActivationBits => 2;
    public int WeightBits => 2;
}

/// <summary>4-bit activations, 4-bit weights.</summary>
public readonly struct A4W4 : IBitWidths
{
    public int ActivationBits => 4;
    public int WeightBits => 4;
}

/// <summary>8-bit activations, 8-bit weights.</summary>
public readonly struct A8W8 : IBitWidths
{
    public int ActivationBits => 8;
    public int WeightBits => 8;
}
