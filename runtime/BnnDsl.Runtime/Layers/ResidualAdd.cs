// The join of a residual block in generated code: adds the main path and the shortcut forward, and passes and sums
// the gradients backward; vectorized loops run in parallel chunks on the kernel threads.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// The element-wise add that closes a residual block (<c>y = main + shortcut</c>; He et al. 2016, and for binary
/// networks Bi-Real Net, Liu et al. 2018, whose shortcut around every binary convolution keeps real-valued
/// activations flowing) and the gradient bookkeeping of
/// the block: backward, dLoss/dy flows unchanged to both paths (<see cref="Pass"/>), and the gradient of the block
/// input is the sum of what comes back from both paths (<see cref="Accumulate"/>). Not a <see cref="Layer"/>: it has
/// two inputs and no parameters. Each element depends only on the same elements of the inputs, so results do not
/// depend on the number of threads. Allocates nothing per call.
/// </summary>
public sealed unsafe class ResidualAdd
{
    private const int ChunkLength = 1 << 15;

    /// <summary>Creates the add for <paramref name="batch"/> samples of <paramref name="length"/> floats.</summary>
    public ResidualAdd(string name, int batch, int length, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (batch <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Residual add '{name}': batch must be at least 1.");
        if (length <= 0 || (long)batch * length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Residual add '{name}': {batch} samples of {length} floats do not fit an array; use a positive length and a smaller batch.");
        Name = name;
        Batch = batch;
        Length = batch * length;
        Path = path;
        Threads = threads;
    }

    /// <summary>The add's name in the generated network (e.g. <c>add1</c>).</summary>
    public string Name { get; }

    /// <summary>Samples per call.</summary>
    public int Batch { get; }

    /// <summary>Floats of each input and of the output for the whole batch.</summary>
    public int Length { get; }

    /// <summary>The kernel path of the network (the loops are plain Vector256 code on every path).</summary>
    public KernelPath Path { get; }

    /// <summary>Threads for the loops (0: all cores).</summary>
    public int Threads { get; }

    /// <summary><c>y = main + shortcut</c>, element-wise; each span holds <see cref="Length"/> floats.</summary>
    public void Forward(ReadOnlySpan<float> main, ReadOnlySpan<float> shortcut, Span<float> y)
    {
        Check(main.Length, Length, nameof(main));
        Check(shortcut.Length, Length, nameof(shortcut));
        Check(y.Length, Length, nameof(y));
        Add(main, shortcut, y);
    }

    /// <summary>Copies dLoss/dy (<see cref="Length"/> floats) to the gradient of one path's end, which the add passes unchanged.</summary>
    public void Pass(ReadOnlySpan<float> dy, Span<float> pathGradient)
    {
        Check(dy.Length, Length, nameof(dy));
        Check(pathGradient.Length, Length, nameof(pathGradient));
        dy.CopyTo(pathGradient);
    }

    /// <summary>
    /// <c>sum += addend</c>, element-wise: adds the gradient one path sends back to the block input's gradient. The
    /// block input may differ in size from the block output (a downsampling shortcut), so only the two spans must agree.
    /// </summary>
    public void Accumulate(Span<float> sum, ReadOnlySpan<float> addend)
    {
        Check(addend.Length, sum.Length, nameof(addend));
        Add(sum, addend, sum);
    }

    private void Check(int actual, int expected, string argument)
    {
        if (actual != expected)
            throw new ArgumentException(
                $"Residual add '{Name}': {argument} holds {actual} floats but must hold {expected} (batch {Batch}); pass a span of the block's length.", argument);
    }

    private void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        fixed (float* aPtr = a)
        fixed (float* bPtr = b)
        fixed (float* yPtr = y)
        {
            var job = new Job { A = aPtr, B = bPtr, Y = yPtr, Length = a.Length };
            int chunks = (a.Length + ChunkLength - 1) / ChunkLength;
            KernelParallel.For(chunks, Threads, ref job);
        }
    }

    private struct Job : IParallelJob
    {
        public float* A, B, Y;
        public int Length;

        public readonly void Run(int index)
        {
            int start = index * ChunkLength, n = Math.Min(ChunkLength, Length - start);
            float* a = A + start, b = B + start, y = Y + start;
            int i = 0;
            for (; i + 8 <= n; i += 8)
                (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(y + i);
            for (; i < n; i++)
                y[i] = a[i] + b[i];
        }
    }
}
