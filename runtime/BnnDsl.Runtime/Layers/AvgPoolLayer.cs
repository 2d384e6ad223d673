// Average pooling over NHWC floats that counts padded cells as zeros (count_include_pad = true), and its backward.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>y[b, oh, ow, c] = (1 / kernel²) Σ</c> over the real cells of the window: padded cells count as zeros, the
/// divisor is always <c>kernel²</c> (PyTorch's <c>count_include_pad=True</c>). Backward:
/// <c>dx[cell] = Σ dy / kernel²</c> over the windows that contain the cell.
/// </summary>
public sealed unsafe class AvgPoolLayer : Layer
{
    private readonly Pool2dShape shape;

    /// <summary>Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>.</summary>
    public AvgPoolLayer(string name, int batch, int height, int width, int channels, int kernel, int stride, int pad = 0,
        KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * height * width * channels,
            (long)LayerShapes.Pool(name, batch, height, width, channels, kernel, stride, pad).OutputPositions * channels, path, threads)
    {
        shape = LayerShapes.Pool(name, batch, height, width, channels, kernel, stride, pad);
    }

    /// <summary>The pooling geometry.</summary>
    public Pool2dShape Shape => shape;

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        fixed (float* xPtr = x)
        fixed (float* yPtr = y)
        {
            var job = new Job { Shape = shape, X = xPtr, Y = yPtr, Backward = false };
            KernelParallel.For(Batch, Threads, ref job);
        }
    }

    /// <summary>Spreads each dy evenly over its window's cells; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (dx.IsEmpty)
            return;
        fixed (float* dyPtr = dy)
        fixed (float* dxPtr = dx)
        {
            var job = new Job { Shape = shape, X = dxPtr, Y = dyPtr, Backward = true };
            KernelParallel.For(Batch, Threads, ref job);
        }
    }

    /// <summary>Item: one image. Forward reads X (input) and writes Y; backward reads Y (dy) and writes X (dx).</summary>
    private struct Job : IParallelJob
    {
        public Pool2dShape Shape;
        public float* X, Y;
        public bool Backward;

        public readonly void Run(int index)
        {
            Pool2dShape s = Shape;
            int c = s.Channels;
            float inverse = 1f / (s.KernelH * s.KernelW);
            float* image = X + (long)index * s.Height * s.Width * c;
            float* outputs = Y + (long)index * s.OutputHeight * s.OutputWidth * c;
            if (Backward)
                new Span<float>(image, s.Height * s.Width * c).Clear();
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                {
                    int top = oh * s.StrideH - s.PadH, left = ow * s.StrideW - s.PadW;
                    int kyLo = Math.Max(0, -top), kyHi = Math.Min(s.KernelH, s.Height - top);
                    int kxLo = Math.Max(0, -left), kxHi = Math.Min(s.KernelW, s.Width - left);
                    float* o = outputs + ((long)oh * s.OutputWidth + ow) * c;
                    if (!Backward)
                        new Span<float>(o, c).Clear();
                    for (int ky = kyLo; ky < kyHi; ky++)
                        for (int kx = kxLo; kx < kxHi; kx++)
                        {
                            float* cell = image + ((long)(top + ky) * s.Width + left + kx) * c;
                            if (Backward)
                                AddScaled(cell, o, inverse, c);
                            else
                                AddScaled(o, cell, 1f, c);
                        }
                    if (!Backward)
                        Scale(o, inverse, c);
                }
        }

        private static void AddScaled(float* dst, float* src, float factor, int n)
        {
            var f = Vector256.Create(factor);
            int i = 0;
            for (; i + 8 <= n; i += 8)
                (Vector256.Load(dst + i) + Vector256.Load(src + i) * f).Store(dst + i);
            for (; i < n; i++)
                dst[i] += src[i] * factor;
        }

        private static void Scale(float* dst, float factor, int n)
        {
            int i = 0;
            for (; i + 8 <= n; i += 8)
                (Vector256.Load(dst + i) * Vector256.Create(factor)).Store(dst + i);
            for (; i < n; i++)
                dst[i] *= factor;
        }
    }
}
