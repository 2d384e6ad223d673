// Max pooling over NHWC floats that remembers each output's argmax, so backward scatters dy to it.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>y[b, oh, ow, c] = max</c> over the real cells of the <c>kernel × kernel</c> window (padded cells take no
/// part). The forward pass stores, per output, the input index of the maximum (ties: the first in window order
/// ky, then kx); backward writes <c>dx = 0</c> and adds each <c>dy</c> to its argmax cell. When the windows tile the
/// input exactly (stride = kernel, no padding, sizes divisible by the kernel), backward writes every dx cell once
/// instead: <c>dy</c> at the argmax, 0 elsewhere.
/// </summary>
public sealed unsafe class MaxPoolLayer : Layer
{
    private readonly Pool2dShape shape;
    private readonly int[] argmax;
    private readonly bool tiles;

    /// <summary>Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>.</summary>
    public MaxPoolLayer(string name, int batch, int height, int width, int channels, int kernel, int stride, int pad = 0,
        KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * height * width * channels,
            (long)LayerShapes.Pool(name, batch, height, width, channels, kernel, stride, pad).OutputPositions * channels, path, threads)
    {
        shape = LayerShapes.Pool(name, batch, height, width, channels, kernel, stride, pad);
        argmax = new int[OutputLength];
        tiles = stride == kernel && pad == 0 && height % kernel == 0 && width % kernel == 0;
    }

    /// <summary>The pooling geometry.</summary>
    public Pool2dShape Shape => shape;

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        fixed (float* xPtr = x)
        fixed (float* yPtr = y)
        fixed (int* argmaxPtr = argmax)
        {
            var job = new ForwardJob { Shape = shape, X = xPtr, Y = yPtr, Argmax = argmaxPtr };
            KernelParallel.For(Batch * shape.OutputHeight, Threads, ref job);
        }
    }

    /// <summary>Scatters dy to the argmax of the last forward pass; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (dx.IsEmpty)
            return;
        fixed (float* dyPtr = dy)
        fixed (float* dxPtr = dx)
        fixed (int* argmaxPtr = argmax)
        {
            if (tiles)
            {
                var tileJob = new TileBackwardJob { Shape = shape, Dy = dyPtr, Dx = dxPtr, Argmax = argmaxPtr };
                KernelParallel.For(Batch * shape.OutputHeight, Threads, ref tileJob);
                return;
            }
            var job = new BackwardJob { Dy = dyPtr, Dx = dxPtr, Argmax = argmaxPtr, InputPerImage = InputLength / Batch, OutputPerImage = OutputLength / Batch };
            KernelParallel.For(Batch, Threads, ref job);
        }
    }

    /// <summary>Item: one output row (image, oh).</summary>
    private struct ForwardJob : IParallelJob
    {
        public Pool2dShape Shape;
        public float* X, Y;
        public int* Argmax;

        public readonly void Run(int index)
        {
            Pool2dShape s = Shape;
            int oh = index % s.OutputHeight, image = index / s.OutputHeight, c = s.Channels;
            int top = oh * s.StrideH - s.PadH;
            int kyLo = Math.Max(0, -top), kyHi = Math.Min(s.KernelH, s.Height - top);
            long outBase = (long)index * s.OutputWidth * c;
            for (int ow = 0; ow < s.OutputWidth; ow++)
            {
                int left = ow * s.StrideW - s.PadW;
                int kxLo = Math.Max(0, -left), kxHi = Math.Min(s.KernelW, s.Width - left);
                float* y = Y + outBase + (long)ow * c;
                int* arg = Argmax + outBase + (long)ow * c;
                int firstCell = ((image * s.Height + top + kyLo) * s.Width + left + kxLo) * c;
                int ch = 0;
                for (; ch + 8 <= c; ch += 8)
                {
                    var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create(ch);
                    var best = Vector256.Load(X + firstCell + ch);
                    var bestIndex = Vector256.Create(firstCell) + lane;
                    for (int ky = kyLo; ky < kyHi; ky++)
                        for (int kx = kxLo; kx < kxHi; kx++)
                        {
                            int cell = ((image * s.Height + top + ky) * s.Width + left + kx) * c;
                            var v = Vector256.Load(X + cell + ch);
                            var greater = Vector256.GreaterThan(v, best);
                            best = Vector256.ConditionalSelect(greater, v, best);
                            bestIndex = Vector256.ConditionalSelect(greater.AsInt32(), Vector256.Create(cell) + lane, bestIndex);
                        }
                    best.Store(y + ch);
                    bestIndex.Store(arg + ch);
                }
                for (; ch < c; ch++)
                {
                    float best = X[firstCell + ch];
                    int bestIndex = firstCell + ch;
                    for (int ky = kyLo; ky < kyHi; ky++)
                        for (int kx = kxLo; kx < kxHi; kx++)
                        {
                            int cell = ((image * s.Height + top + ky) * s.Width + left + kx) * c + ch;
                            if (X[cell] > best)
                            {
                                best = X[cell];
                                bestIndex = cell;
                            }
                        }
                    y[ch] = best;
                    arg[ch] = bestIndex;
                }
            }
        }
    }

    /// <summary>Item: one image (its windows only touch its own input cells).</summary>
    private struct BackwardJob : IParallelJob
    {
        public float* Dy, Dx;
        public int* Argmax;
        public int InputPerImage, OutputPerImage;

        public readonly void Run(int index)
        {
            new Span<float>(Dx + (long)index * InputPerImage, InputPerImage).Clear();
            long first = (long)index * OutputPerImage;
            for (long o = first; o < first + OutputPerImage; o++)
                Dx[Argmax[o]] += Dy[o];
        }
    }

    /// <summary>Item: one output row (image, oh) of windows that tile the input; writes each of its input cells once.</summary>
    private struct TileBackwardJob : IParallelJob
    {
        public Pool2dShape Shape;
        public float* Dy, Dx;
        public int* Argmax;

        public readonly void Run(int index)
        {
            Pool2dShape s = Shape;
            int oh = index % s.OutputHeight, image = index / s.OutputHeight, c = s.Channels, k = s.KernelH;
            long outBase = (long)index * s.OutputWidth * c;
            for (int ky = 0; ky < k; ky++)
            {
                int rowCell = ((image * s.Height + oh * k + ky) * s.Width) * c;
                for (int ow = 0; ow < s.OutputWidth; ow++)
                {
                    float* dy = Dy + outBase + (long)ow * c;
                    int* arg = Argmax + outBase + (long)ow * c;
                    for (int kx = 0; kx < k; kx++)
                    {
                        int cell = rowCell + (ow * k + kx) * c;
                        float* dx = Dx + cell;
                        int ch = 0;
                        for (; ch + 8 <= c; ch += 8)
                        {
                            var hit = Vector256.Equals(Vector256.Load(arg + ch), Vector256.Create(cell + ch) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7));
                            (Vector256.Load(dy + ch) & hit.AsSingle()).Store(dx + ch);
                        }
                        for (; ch < c; ch++)
                            dx[ch] = arg[ch] == cell + ch ? dy[ch] : 0f;
                    }
                }
            }
        }
    }
}
