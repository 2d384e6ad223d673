// Vectorized element-wise loops of the layers (sign, STE gate, ReLU), run over fixed chunks on the kernel threads.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Element-wise operations on float runs, 8 floats per step (Vector256) with scalar tails, split into chunks of
/// <see cref="ChunkLength"/> floats that run in parallel when the run is long. Each output element depends only
/// on the same element of the inputs, so the result does not depend on the number of threads. An output may be
/// the same span as an input.
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>Floats per work item.</summary>
    public const int ChunkLength = 1 << 15;

    private enum Op { Sign, ClipGate, Relu, ReluGate }

    /// <summary><c>y = x &gt;= 0 ? +1 : -1</c> (NaN gives -1, as <see cref="SignPacking"/> packs it).</summary>
    public static void Sign(ReadOnlySpan<float> x, Span<float> y, int threads) => Run(Op.Sign, x, default, y, threads);

    /// <summary>The STE of sign with clip 1: <c>dx = |x| &lt;= 1 ? dy : 0</c>.</summary>
    public static void ClipGate(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int threads)
        => Run(Op.ClipGate, x, dy, dx, threads);

    /// <summary><c>y = max(x, 0)</c>.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y, int threads) => Run(Op.Relu, x, default, y, threads);

    /// <summary><c>dx = x &gt; 0 ? dy : 0</c>.</summary>
    public static void ReluGate(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int threads)
        => Run(Op.ReluGate, x, dy, dx, threads);

    /// <summary><c>sum += x</c> on the calling thread.</summary>
    public static void Add(ReadOnlySpan<float> x, Span<float> sum)
    {
        fixed (float* xPtr = x)
        fixed (float* sumPtr = sum)
        {
            int i = 0, n = x.Length;
            for (; i + 8 <= n; i += 8)
                (Vector256.Load(sumPtr + i) + Vector256.Load(xPtr + i)).Store(sumPtr + i);
            for (; i < n; i++)
                sumPtr[i] += xPtr[i];
        }
    }

    private static void Run(Op op, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> output, int threads)
    {
        fixed (float* xPtr = x)
        fixed (float* dyPtr = dy)
        fixed (float* outPtr = output)
        {
            var job = new Job { Operation = op, X = xPtr, Dy = dyPtr, Output = outPtr, Length = x.Length };
            int chunks = (x.Length + ChunkLength - 1) / ChunkLength;
            KernelParallel.For(chunks, threads, ref job);
        }
    }

    private struct Job : IParallelJob
    {
        public Op Operation;
        public float* X, Dy, Output;
        public int Length;

        public readonly void Run(int index)
        {
            int start = index * ChunkLength, n = Math.Min(ChunkLength, Length - start);
            float* x = X + start, dy = Dy + start, y = Output + start;
            switch (Operation)
            {
                case Op.Sign: SignRun(x, y, n); break;
                case Op.ClipGate: ClipGateRun(x, dy, y, n); break;
                case Op.Relu: ReluRun(x, y, n); break;
                default: ReluGateRun(x, dy, y, n); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SignRun(float* x, float* y, int n)
    {
        var one = Vector256.Create(1f);
        var minusOne = Vector256.Create(-1f);
        int i = 0;
        for (; i + 8 <= n; i += 8)
            Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Load(x + i), Vector256<float>.Zero), one, minusOne).Store(y + i);
        for (; i < n; i++)
            y[i] = x[i] >= 0f ? 1f : -1f;
    }

    private static void ClipGateRun(float* x, float* dy, float* dx, int n)
    {
        var one = Vector256.Create(1f);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var inside = Vector256.LessThanOrEqual(Vector256.Abs(Vector256.Load(x + i)), one);
            (Vector256.Load(dy + i) & inside).Store(dx + i);
        }
        for (; i < n; i++)
            dx[i] = MathF.Abs(x[i]) <= 1f ? dy[i] : 0f;
    }

    private static void ReluRun(float* x, float* y, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.Load(x + i);
            (v & Vector256.GreaterThan(v, Vector256<float>.Zero)).Store(y + i);
        }
        for (; i < n; i++)
            y[i] = x[i] > 0f ? x[i] : 0f;
    }

    private static void ReluGateRun(float* x, float* dy, float* dx, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
            (Vector256.Load(dy + i) & Vector256.GreaterThan(Vector256.Load(x + i), Vector256<float>.Zero)).Store(dx + i);
        for (; i < n; i++)
            dx[i] = x[i] > 0f ? dy[i] : 0f;
    }
}
