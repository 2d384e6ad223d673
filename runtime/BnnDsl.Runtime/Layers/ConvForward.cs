// The float forward pass of a convolution, im2col + SGEMM over chunks of images in parallel: the float layer's own
// forward, and the float reference (simulation) of the binary and k-bit convolutions on their ±1 or level values.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>y (rows × filters) = bias + im2col(x) (rows × k) · Wᵀ</c> for every image of <see cref="Conv2dShape"/>
/// <c>shape</c>, in chunks of <c>imagesPerChunk</c> images run in parallel, each on one thread with a single-threaded
/// SGEMM so the chunk stays in that thread's cache. The im2col is that of x (zero padding) or of sign(x) with a pad
/// value (<see cref="LayerIm2Col"/>). Each image depends only on itself, so the result does not depend on the
/// thread count.
/// </summary>
internal static unsafe class ConvForward
{
    /// <summary>Writes <paramref name="y"/>; an empty <paramref name="bias"/> adds none. <paramref name="columns"/> holds one chunk per slot.</summary>
    public static void Run(Conv2dShape shape, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        ScratchSlots columns, int imagesPerChunk, bool sign, float padValue, KernelPath path, int threads)
    {
        fixed (float* xPtr = x)
        fixed (float* yPtr = y)
        fixed (float* weightPtr = weights)
        fixed (float* biasPtr = bias)
        {
            var job = new Job
            {
                Shape = shape, X = xPtr, Y = yPtr, Weights = weightPtr, Bias = bias.IsEmpty ? null : biasPtr,
                ImagesPerChunk = imagesPerChunk, Columns = columns, Sign = sign, PadValue = padValue, Path = path,
            };
            KernelParallel.For((shape.Batch + imagesPerChunk - 1) / imagesPerChunk, threads, ref job);
        }
    }

    /// <summary>Item: one chunk of images: im2col, then <c>y (rows × filters) = bias + cols (rows × k) · Wᵀ</c>.</summary>
    private struct Job : IParallelJob
    {
        public Conv2dShape Shape;
        public float* X, Y, Weights, Bias;
        public int ImagesPerChunk;
        public ScratchSlots Columns;
        public bool Sign;
        public float PadValue;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            Conv2dShape s = Shape;
            int filters = s.Filters, k = s.KernelH * s.KernelW * s.Channels, imageRows = s.OutputHeight * s.OutputWidth;
            int imageInput = s.Height * s.Width * s.Channels;
            int first = index * ImagesPerChunk, images = Math.Min(ImagesPerChunk, s.Batch - first), rows = images * imageRows;
            int slot = Columns.Take();
            try
            {
                var cols = Columns.Buffer(slot).AsSpan(0, rows * k);
                var chunk = s with { Batch = images };
                LayerIm2Col.Run(chunk, new ReadOnlySpan<float>(X + (long)first * imageInput, images * imageInput), cols, Sign, PadValue, threads: 1);
                var y = new Span<float>(Y + (long)first * imageRows * filters, rows * filters);
                float beta = 0f;
                if (Bias != null)
                {
                    var bias = new ReadOnlySpan<float>(Bias, filters);
                    for (int row = 0; row < rows; row++)
                        bias.CopyTo(y.Slice(row * filters, filters));
                    beta = 1f;
                }
                Sgemm.Multiply(false, true, rows, filters, k, 1f, cols, k, new ReadOnlySpan<float>(Weights, filters * k), k, beta, y, filters, Path, threads: 1);
            }
            finally
            {
                Columns.Release(slot);
            }
        }
    }
}
