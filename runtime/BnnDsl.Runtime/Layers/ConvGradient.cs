// The backward pass shared by the float and binary convolution layers: weight gradient dYᵀ · im2col and input
// gradient col2im(dY · W), run as fixed groups of images in parallel so each thread's im2col stays in its cache.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// For a convolution of <see cref="Conv2dShape"/> <c>shape</c>: <c>dW = dYᵀ · im2col(x)</c>, <c>db = Σ dY</c> and, when asked,
/// <c>dx = col2im(dY · W)</c>. The batch is cut into at most <see cref="MaxGroups"/> fixed groups of images that
/// run in parallel, each on one thread: a group walks its images in chunks of about
/// <see cref="ChunkFloats"/> im2col floats (kept in that thread's cache), multiplies with single-threaded SGEMMs
/// and accumulates its own partial dW (as dWᵀ = colsᵀ · dY when the patch is shorter than the filter count, the
/// faster orientation of the two when timed for a 1-channel 5x5 convolution); the partials are then added in group
/// order. The partitioning does not depend on the thread count, so the result is the same bit for bit on every
/// run. The im2col (<see cref="LayerIm2Col"/>) is either that of x (zero padding) or that of sign(x) with a chosen
/// pad value (binary convolutions).
/// </summary>
internal sealed unsafe class ConvGradient
{
    /// <summary>Most groups of images (and partial weight gradients): enough for 16 cores, and small items keep two busy cores balanced.</summary>
    public const int MaxGroups = 16;

    /// <summary>Target size of one chunk of the im2col matrix, in floats.</summary>
    public const int ChunkFloats = 1 << 18;

    private readonly Conv2dShape shape;
    private readonly bool signInput;
    private readonly bool transposed;
    private readonly float padValue;
    private readonly int groups, imagesPerChunk;
    private readonly float[] partials;
    private readonly float[] biasPartials;

    /// <summary>Sets up the groups and partial gradients of <paramref name="shape"/>; <paramref name="signInput"/> selects the im2col of sign(x) with <paramref name="padValue"/>.</summary>
    public ConvGradient(Conv2dShape shape, bool signInput, float padValue)
    {
        this.shape = shape;
        this.signInput = signInput;
        this.padValue = padValue;
        groups = Math.Min(shape.Batch, MaxGroups);
        transposed = PatchLength < shape.Filters;
        imagesPerChunk = Math.Clamp(ChunkFloats / (shape.OutputHeight * shape.OutputWidth * PatchLength), 1, shape.Batch);
        partials = new float[groups * shape.Filters * PatchLength];
        biasPartials = new float[groups * shape.Filters];
        Columns = new ScratchSlots(ImagesPerChunk * shape.OutputHeight * shape.OutputWidth * PatchLength);
    }

    /// <summary>Images per chunk of the im2col matrix (about <see cref="ChunkFloats"/> floats, at least one image).</summary>
    public int ImagesPerChunk => imagesPerChunk;

    /// <summary>The value padded cells of the im2col read.</summary>
    public float PadValue => padValue;

    /// <summary>One im2col chunk buffer per thread; the layer's forward pass may use them too.</summary>
    public ScratchSlots Columns { get; }

    private int PatchLength => shape.KernelH * shape.KernelW * shape.Channels;

    /// <summary>
    /// Writes <paramref name="weightGradient"/>, <paramref name="biasGradient"/> (<c>Σ dY</c> per filter; empty: none) and,
    /// unless <paramref name="dx"/> is empty, dx from <paramref name="weights"/> (W or sign(W)).
    /// </summary>
    public void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> weights, Span<float> weightGradient,
        Span<float> biasGradient, Span<float> dx, KernelPath path, int threads)
    {
        fixed (float* xPtr = x)
        fixed (float* dyPtr = dy)
        fixed (float* weightsPtr = weights)
        fixed (float* dxPtr = dx)
        fixed (float* partialsPtr = partials)
        fixed (float* biasPartialsPtr = biasPartials)
        {
            var job = new Job
            {
                Owner = this, X = xPtr, Dy = dyPtr, Weights = weightsPtr, Dx = dx.IsEmpty ? null : dxPtr, Partials = partialsPtr,
                BiasPartials = biasGradient.IsEmpty ? null : biasPartialsPtr, Path = path,
            };
            KernelParallel.For(groups, threads, ref job);
        }
        int length = weightGradient.Length, filters = shape.Filters, k = PatchLength;
        partials.AsSpan(0, length).CopyTo(weightGradient);
        for (int g = 1; g < groups; g++)
            Elementwise.Add(partials.AsSpan(g * length, length), weightGradient);
        if (transposed)
        {
            // The sum is dWᵀ (k × filters): transpose it into dW, using the first partial as the copy.
            var sum = partials.AsSpan(0, length);
            weightGradient.CopyTo(sum);
            for (int o = 0; o < filters; o++)
                for (int i = 0; i < k; i++)
                    weightGradient[o * k + i] = sum[i * filters + o];
        }
        if (biasGradient.IsEmpty)
            return;
        biasPartials.AsSpan(0, filters).CopyTo(biasGradient);
        for (int g = 1; g < groups; g++)
            Elementwise.Add(biasPartials.AsSpan(g * filters, filters), biasGradient);
    }

    /// <summary>Item: one group of images.</summary>
    private struct Job : IParallelJob
    {
        public ConvGradient Owner;
        public float* X, Dy, Weights, Dx, Partials, BiasPartials;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            var o = Owner;
            Conv2dShape s = o.shape;
            int filters = s.Filters, k = o.PatchLength, imageRows = s.OutputHeight * s.OutputWidth;
            int imageInput = s.Height * s.Width * s.Channels;
            int first = (int)((long)index * s.Batch / o.groups), end = (int)((long)(index + 1) * s.Batch / o.groups);
            int slot = o.Columns.Take();
            try
            {
                var columns = o.Columns.Buffer(slot);
                var weightGradient = new Span<float>(Partials + (long)index * filters * k, filters * k);
                var weights = new ReadOnlySpan<float>(Weights, filters * k);
                if (BiasPartials != null)
                    new Span<float>(BiasPartials + (long)index * filters, filters).Clear();
                for (int image = first; image < end; image += o.imagesPerChunk)
                {
                    int images = Math.Min(o.imagesPerChunk, end - image), rows = images * imageRows;
                    var chunk = s with { Batch = images };
                    var cols = columns.AsSpan(0, rows * k);
                    var x = new ReadOnlySpan<float>(X + (long)image * imageInput, images * imageInput);
                    var dy = new ReadOnlySpan<float>(Dy + (long)image * imageRows * filters, rows * filters);
                    LayerIm2Col.Run(chunk, x, cols, o.signInput, o.padValue, threads: 1);
                    float beta = image == first ? 0f : 1f;
                    if (o.transposed)
                        // dWᵀ (k × filters) += colsᵀ (k × rows) · dY (rows × filters)
                        Sgemm.Multiply(true, false, k, filters, rows, 1f, cols, k, dy, filters, beta, weightGradient, filters, Path, threads: 1);
                    else
                        // dW (filters × k) += dYᵀ (filters × rows) · cols (rows × k)
                        Sgemm.Multiply(true, false, filters, k, rows, 1f, dy, filters, cols, k, beta, weightGradient, k, Path, threads: 1);
                    if (BiasPartials != null)
                        AddRows(dy, rows, filters, BiasPartials + (long)index * filters);
                    if (Dx == null)
                        continue;
                    // dcols (rows × k) = dY (rows × filters) · W (filters × k), then dx = col2im(dcols)
                    Sgemm.Multiply(false, false, rows, k, filters, 1f, dy, filters, weights, k, 0f, cols, k, Path, threads: 1);
                    FloatConv2d.Col2Im(chunk, cols, new Span<float>(Dx + (long)image * imageInput, images * imageInput), Path, threads: 1);
                }
            }
            finally
            {
                o.Columns.Release(slot);
            }
        }

        /// <summary><c>sums[f] += Σ_r rows[r, f]</c>, in row order.</summary>
        private static void AddRows(ReadOnlySpan<float> data, int rows, int cols, float* sums)
        {
            fixed (float* dataPtr = data)
            {
                float* row = dataPtr;
                for (int r = 0; r < rows; r++, row += cols)
                {
                    int c = 0;
                    for (; c + 8 <= cols; c += 8)
                        (Vector256.Load(sums + c) + Vector256.Load(row + c)).Store(sums + c);
                    for (; c < cols; c++)
                        sums[c] += row[c];
                }
            }
        }
    }
}
