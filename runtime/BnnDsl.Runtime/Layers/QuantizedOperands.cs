// The float images of k-bit operands that the backward passes and the float reference of the quantized layers
// multiply with, and the STE gate.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// The real values of the codes of <see cref="BitPlanes"/>: activations <c>q / (2^k - 1)</c> with
/// <c>q = round(clip(x, 0, 1) * (2^k - 1))</c>, weights <c>(2q - (2^k - 1)) / (2^k - 1)</c> with
/// <c>q = round((clip(w, -1, 1) + 1) / 2 * (2^k - 1))</c>, the same quantizers the forward kernels pack with.
/// </summary>
internal static class QuantizedOperands
{
    /// <summary>Writes the quantized value of every activation of <paramref name="x"/> into <paramref name="values"/>.</summary>
    public static void Activations(ReadOnlySpan<float> x, Span<float> values, int bits)
    {
        float levels = (1 << bits) - 1;
        for (int i = 0; i < x.Length; i++)
            values[i] = BitPlanes.QuantizeActivation(x[i], bits) / levels;
    }

    /// <summary>Writes the quantized value of every weight of <paramref name="w"/> into <paramref name="values"/>.</summary>
    public static void Weights(ReadOnlySpan<float> w, Span<float> values, int bits)
    {
        float levels = (1 << bits) - 1;
        for (int i = 0; i < w.Length; i++)
            values[i] = BitPlanes.WeightLevel(BitPlanes.QuantizeWeight(w[i], bits), bits) / levels;
    }

    /// <summary>Writes the code <c>q</c> (0 .. 2^k - 1) of every activation of <paramref name="x"/>, as a float, into <paramref name="codes"/>.</summary>
    public static void ActivationCodes(ReadOnlySpan<float> x, Span<float> codes, int bits)
    {
        for (int i = 0; i < x.Length; i++)
            codes[i] = BitPlanes.QuantizeActivation(x[i], bits);
    }

    /// <summary>Writes the odd integer level <c>2q - (2^k - 1)</c> of every weight of <paramref name="w"/>, as a float, into <paramref name="levels"/>.</summary>
    public static void WeightLevels(ReadOnlySpan<float> w, Span<float> levels, int bits)
    {
        for (int i = 0; i < w.Length; i++)
            levels[i] = BitPlanes.WeightLevel(BitPlanes.QuantizeWeight(w[i], bits), bits);
    }

    /// <summary>Multiplies every value of <paramref name="y"/> by <paramref name="scale"/> (in place).</summary>
    public static void Scale(Span<float> y, float scale)
    {
        foreach (ref float value in y)
            value *= scale;
    }

    /// <summary>The activation STE: <c>dx = dx</c> where <c>0 &lt;= x &lt;= 1</c>, else 0 (in place).</summary>
    public static void UnitGate(ReadOnlySpan<float> x, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
            if (!(x[i] >= 0f && x[i] <= 1f))
                dx[i] = 0f;
    }

    /// <summary>Throws unless both widths lie in 2..8.</summary>
    public static void CheckBits(string layer, int weightBits, int activationBits)
    {
        if (weightBits is < 2 or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits,
                $"Layer '{layer}': weightBits must lie in 2..8 (1-bit layers are the Binary* layers, 32-bit the float ones).");
        if (activationBits is < BitPlanes.MinActivationBits or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits,
                $"Layer '{layer}': activationBits must lie in 2..8 (1-bit layers are the Binary* layers, 32-bit the float ones).");
    }
}
