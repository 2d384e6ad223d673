// The k-bit activation quantizer (2..31 bits, DoReFa): uniform levels in [0, 1], straight-through backward; 32 bits
// is the identity.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// k-bit activation (DoReFa-Net, Zhou et al. 2016): <c>y = round(clip(x, 0, 1) * (2^k - 1)) / (2^k - 1)</c>,
/// rounding halves to even. Backward, straight-through estimator: <c>dx = dy</c> where <c>0 &lt;= x &lt;= 1</c>, else 0.
/// 2..8 bits are evaluated in float32 (vectorized, as the bit-serial packers quantize); 9..31 bits give the exact codes
/// of <see cref="UniformQuantizer"/> (scalar, no speed gain over float). 32 bits is the identity, forward and backward.
/// </summary>
public sealed unsafe class QuantizeLayer : Layer
{
    /// <summary>Floats per work item.</summary>
    private const int ChunkLength = 1 << 15;

    /// <summary>Creates the layer for <paramref name="batch"/> samples of <paramref name="length"/> floats, <paramref name="bits"/> in 2..32.</summary>
    public QuantizeLayer(string name, int batch, int length, int bits, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * length, (long)batch * length, path, threads)
    {
        if (bits is < UniformQuantizer.MinBits or > LayerKernels.FloatBits)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"Layer '{name}': bits must lie in 2..32 (use SignLayer for 1 bit).");
        Bits = bits;
    }

    /// <summary>Bits per activation.</summary>
    public int Bits { get; }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        if (Bits == LayerKernels.FloatBits)
            x.CopyTo(y);
        else
            Run(x, default, y, backward: false);
    }

    /// <summary>The STE gate; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (dx.IsEmpty)
            return;
        if (Bits == LayerKernels.FloatBits)
            dy.CopyTo(dx);
        else
            Run(x, dy, dx, backward: true);
    }

    private void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> output, bool backward)
    {
        fixed (float* xPtr = x)
        fixed (float* dyPtr = dy)
        fixed (float* outPtr = output)
        {
            var job = new Job { X = xPtr, Dy = dyPtr, Output = outPtr, Length = x.Length, Bits = Bits, Backward = backward };
            KernelParallel.For((x.Length + ChunkLength - 1) / ChunkLength, Threads, ref job);
        }
    }

    private struct Job : IParallelJob
    {
        public float* X, Dy, Output;
        public int Length, Bits;
        public bool Backward;

        public readonly void Run(int index)
        {
            int start = index * ChunkLength, n = Math.Min(ChunkLength, Length - start), i = 0;
            float* x = X + start, dy = Dy + start, output = Output + start;
            if (Backward)
            {
                for (; i + 8 <= n; i += 8)
                {
                    var v = Vector256.Load(x + i);
                    var inside = Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero) & Vector256.LessThanOrEqual(v, Vector256.Create(1f));
                    (Vector256.Load(dy + i) & inside).Store(output + i);
                }
                for (; i < n; i++)
                    output[i] = x[i] >= 0f && x[i] <= 1f ? dy[i] : 0f;
                return;
            }
            if (Bits > BitPlanes.MaxBits)
            {
                for (; i < n; i++)
                    output[i] = UniformQuantizer.ActivationValue(x[i], Bits);
                return;
            }
            Quantize(x, output, n, (1 << Bits) - 1);
        }
    }

    /// <summary>The forward formula on <paramref name="n"/> floats (also the packed interpreter's quantize step).</summary>
    internal static void Quantize(float* x, float* output, int n, int levelCount)
    {
        float levels = levelCount, inverse = 1f / levelCount;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var clipped = Vector256.Min(Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero), Vector256.Create(1f));
            (Vector256.Round(clipped * levels) * inverse).Store(output + i);
        }
        for (; i < n; i++)
            output[i] = MathF.Round(Math.Clamp(x[i], 0f, 1f) * levels) * inverse;
    }
}
