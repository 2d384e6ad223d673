// Bit-serial k-bit GEMM on the accelerator with the widths chosen at run time and a float output scaled per launch:
// the packed interpreter's k-bit layers, whose widths (2..8 × 1..8) would need 56 type-parameter kernels.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>y[i, j] = scale · D[i, j]</c> with <c>D[i, j] = Σ_k qa[i, k] · (2 qw[j, k] − (2^kw − 1))</c>, the integer product
/// of <see cref="GpuBitSerialGemm"/> (and of <see cref="BitSerialGemm"/>), converted to float and multiplied once, as
/// the CPU kernel's scale output does. Operands in the row layout of <see cref="BitPlanes"/> (A: ka planes per row, B: kw
/// planes per row). The widths are launch arguments rather than struct type parameters, so one kernel serves every pair;
/// each thread computes one output from global memory (no tiles), which suits the small k-bit layers of the packed
/// models. Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuBitSerialScaledGemm
{
    /// <summary>Writes <c>m × n</c> floats into <paramref name="y"/>, row-major.</summary>
    public static void Multiply(GpuDevice device, ArrayView<ulong> a, int m, int activationBits, ArrayView<ulong> b, int n, int weightBits, int k,
        float scale, ArrayView<float> y)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(m, nameof(m));
        GpuChecks.Positive(n, nameof(n));
        GpuChecks.Positive(k, nameof(k));
        if (activationBits is < BitPlanes.MinActivationBits or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits, $"activationBits must lie in {BitPlanes.MinActivationBits}..{BitPlanes.MaxBits}.");
        if (weightBits is < 1 or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, $"weightBits must lie in 1..{BitPlanes.MaxBits}.");
        long largest = (long)k * ((1 << activationBits) - 1) * ((1 << weightBits) - 1);
        if (largest > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(k), k,
                $"k = {k} is too long for int32 products at {activationBits} x {weightBits} bits (k * (2^ka - 1) * (2^kw - 1) = {largest}); split K.");
        int words = BitPlanes.WordsFor(k);
        GpuChecks.Length(a, (long)m * activationBits * words, nameof(a), "m rows of activationBits planes of ceil(k / 64) words");
        GpuChecks.Length(b, (long)n * weightBits * words, nameof(b), "n rows of weightBits planes of ceil(k / 64) words");
        GpuChecks.Length(y, (long)m * n, nameof(y), "m * n");
        GpuChecks.FitsInt(Math.Max((long)m * n, (long)Math.Max(m, n) * 8 * words), "m * n or a plane matrix");
        device.Kernel("bit-serial-scaled", typeof(float), accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ulong>, ArrayView<ulong>, Widths, ArrayView<float>>(MultiplyKernel))(
            m * n, a, b, new Widths(n, words, activationBits, weightBits, scale), y);
    }

    /// <summary>One thread per output: <c>2 Σ_{p,q} 2^(p+q) popcount(a_p AND w_q) − (2^kw − 1) Σ_p 2^p popcount(a_p)</c>, then the scale.</summary>
    private static void MultiplyKernel(Index1D index, ArrayView<ulong> a, ArrayView<ulong> b, Widths w, ArrayView<float> y)
    {
        int row = index / w.N, col = index - row * w.N;
        int aRow = row * w.ActivationBits * w.Words, bRow = col * w.WeightBits * w.Words;
        int sum = 0, rowSum = 0;
        for (int word = 0; word < w.Words; word++)
            for (int p = 0; p < w.ActivationBits; p++)
            {
                ulong aWord = a[aRow + p * w.Words + word];
                rowSum += IntrinsicMath.PopCount(aWord) << p;
                int partial = 0;
                for (int q = 0; q < w.WeightBits; q++)
                    partial += IntrinsicMath.PopCount(aWord & b[bRow + q * w.Words + word]) << q;
                sum += partial << p;
            }
        int dot = 2 * sum - ((1 << w.WeightBits) - 1) * rowSum;
        y[index] = dot * w.Scale;
    }

    /// <summary>The scalar arguments of one launch.</summary>
    internal readonly record struct Widths(int N, int Words, int ActivationBits, int WeightBits, float Scale);
}
