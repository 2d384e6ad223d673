// The float im2col of sign(x) with a chosen pad value: the matrix a binary convolution's weight gradient multiplies.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Writes <c>OutputPositions</c> rows of <c>KernelH * KernelW * Channels</c> floats, row (b, oh, ow), column
/// (kh, kw, c): <c>sign(x)</c> (±1, sign(0) = +1) of the cell the window reads, or <c>padValue</c> where it reads
/// padding (+1 for <see cref="BinaryPadding.One"/>, 0 for <see cref="BinaryPadding.Zero"/>). Work items are output
/// rows (image, oh), so the result does not depend on the thread count.
/// </summary>
internal static unsafe class SignIm2Col
{
    /// <summary>Fills <paramref name="columns"/> for the images of <paramref name="shape"/> (its Batch) read from <paramref name="input"/>.</summary>
    public static void Run(Conv2dShape shape, ReadOnlySpan<float> input, Span<float> columns, float padValue, int threads)
    {
        fixed (float* inputPtr = input)
        fixed (float* columnsPtr = columns)
        {
            var job = new Job { Shape = shape, Input = inputPtr, Columns = columnsPtr, PadValue = padValue };
            KernelParallel.For(shape.Batch * shape.OutputHeight, threads, ref job);
        }
    }

    private struct Job : IParallelJob
    {
        public Conv2dShape Shape;
        public float* Input, Columns;
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
                        new Span<float>(dst, tapRow).Fill(PadValue);
                        continue;
                    }
                    new Span<float>(dst, kwStart * c).Fill(PadValue);
                    Elementwise.SignRun(imageInput + ((long)ih * s.Width + left + kwStart) * c, dst + kwStart * c, (kwEnd - kwStart) * c);
                    new Span<float>(dst + kwEnd * c, (s.KernelW - kwEnd) * c).Fill(PadValue);
                }
            }
        }
    }
}
