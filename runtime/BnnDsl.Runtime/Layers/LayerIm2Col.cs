// The im2col the convolution layers use: x itself (float convolutions) or sign(x) with a chosen pad value (binary
// convolutions), with short runs copied inline so that few-channel inputs (a 1-channel image) cost little.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Writes <c>OutputPositions</c> rows of <c>KernelH * KernelW * Channels</c> floats, row (b, oh, ow), column
/// (kh, kw, c), the layout of <see cref="FloatConv2d.Im2Col"/>: the cell the window reads, or <c>padValue</c> where
/// it reads padding. With <c>sign</c>, cells are written as <c>sign(x)</c> (±1, sign(0) = +1), and the pad value is
/// +1 for <see cref="BinaryPadding.One"/> and 0 for <see cref="BinaryPadding.Zero"/>. Runs of a few floats (one
/// channel: 5 floats per kernel row) are copied by inline loops rather than span calls, which made
/// <see cref="FloatConv2d.Im2Col"/> about 4x slower on a 1-channel input when timed. Work items are output rows
/// (image, oh), so the result does not depend on the thread count.
/// </summary>
internal static unsafe class LayerIm2Col
{
    /// <summary>Fills <paramref name="columns"/> for the images of <paramref name="shape"/> (its Batch) read from <paramref name="input"/>.</summary>
    public static void Run(Conv2dShape shape, ReadOnlySpan<float> input, Span<float> columns, bool sign, float padValue, int threads)
    {
        fixed (float* inputPtr = input)
        fixed (float* columnsPtr = columns)
        {
            var job = new Job { Shape = shape, Input = inputPtr, Columns = columnsPtr, Sign = sign, PadValue = padValue };
            KernelParallel.For(shape.Batch * shape.OutputHeight, threads, ref job);
        }
    }

    private struct Job : IParallelJob
    {
        public Conv2dShape Shape;
        public float* Input, Columns;
        public bool Sign;
        public float PadValue;

        public readonly void Run(int index)
        {
            Conv2dShape s = Shape;
            int oh = index % s.OutputHeight, image = index / s.OutputHeight;
            int c = s.Channels, tapRow = s.KernelW * c, rowLength = s.KernelH * tapRow;
            float* imageInput = Input + (long)image * s.Height * s.Width * c;
            float* dst = Columns + (long)index * s.OutputWidth * rowLength;
            for (int ow = 0; ow < s.OutputWidth; ow++)
            {
                int left = ow * s.StrideW - s.PadW;
                int kwStart = Math.Min(s.KernelW, Math.Max(0, -left)), kwEnd = Math.Clamp(s.Width - left, kwStart, s.KernelW);
                for (int kh = 0; kh < s.KernelH; kh++, dst += tapRow)
                {
                    int ih = oh * s.StrideH - s.PadH + kh;
                    if ((uint)ih >= (uint)s.Height)
                    {
                        Fill(dst, tapRow, PadValue);
                        continue;
                    }
                    Fill(dst, kwStart * c, PadValue);
                    float* src = imageInput + ((long)ih * s.Width + left + kwStart) * c;
                    int count = (kwEnd - kwStart) * c;
                    if (Sign)
                        Elementwise.SignRun(src, dst + kwStart * c, count);
                    else
                        Copy(src, dst + kwStart * c, count);
                    Fill(dst + kwEnd * c, (s.KernelW - kwEnd) * c, PadValue);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Copy(float* src, float* dst, int n)
        {
            int i = 0;
            for (; i + 8 <= n; i += 8)
                Vector256.Load(src + i).Store(dst + i);
            for (; i < n; i++)
                dst[i] = src[i];
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Fill(float* dst, int n, float value)
        {
            for (int i = 0; i < n; i++)
                dst[i] = value;
        }
    }
}
