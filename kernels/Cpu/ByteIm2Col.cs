// The im2col matrix of a convolution over byte activation codes (the A operand of the byte GEMM), code 0 in padding.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Writes the im2col matrix of NHWC byte codes: <c>OutputPositions</c> rows of <c>KernelH * KernelW * Channels</c>
/// bytes, row (b, oh, ow), column (kh, kw, c), as <see cref="FloatConv2d.Im2Col"/> orders floats; taps that read
/// padding get code 0 (the value 0, the zero padding of the float convolution). Each kernel row inside the image
/// is one copy of up to <c>KernelW * Channels</c> contiguous bytes. Output rows (b, oh) are split over
/// <c>threads</c> cores.
/// </summary>
public static unsafe class ByteIm2Col
{
    /// <summary>Bytes of the im2col matrix of <paramref name="shape"/>: <c>OutputPositions * KernelH * KernelW * Channels</c>.</summary>
    public static long Length(Conv2dShape shape) => (long)shape.OutputPositions * shape.KernelH * shape.KernelW * shape.Channels;

    /// <summary>Writes the im2col rows of all <c>shape.Batch</c> images of <paramref name="codes"/> to <paramref name="columns"/>.</summary>
    public static void Forward(Conv2dShape shape, ReadOnlySpan<byte> codes, Span<byte> columns, int threads = 0)
    {
        shape.Validate();
        KernelChecks.Length(codes, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(codes), "Batch × Height × Width × Channels");
        KernelChecks.Length(columns, Length(shape), nameof(columns), "OutputPositions × KernelH × KernelW × Channels");
        fixed (byte* input = codes)
        fixed (byte* output = columns)
        {
            var job = new Job { Shape = shape, Input = input, Output = output };
            KernelParallel.For(shape.Batch * shape.OutputHeight, threads, ref job);
        }
    }

    /// <summary>Item: the im2col rows of one output row (image, oh).</summary>
    private struct Job : IParallelJob
    {
        public Conv2dShape Shape;
        public byte* Input, Output;

        public readonly void Run(int index)
        {
            var s = Shape;
            int c = s.Channels, rowLength = s.KernelH * s.KernelW * c;
            int b = index / s.OutputHeight, oh = index - b * s.OutputHeight;
            byte* image = Input + (long)b * s.Height * s.Width * c;
            byte* row = Output + (long)index * s.OutputWidth * rowLength;
            for (int ow = 0; ow < s.OutputWidth; ow++, row += rowLength)
            {
                int iwStart = ow * s.StrideW - s.PadW;
                int kwStart = Math.Max(0, -iwStart), kwEnd = Math.Min(s.KernelW, s.Width - iwStart);
                for (int kh = 0; kh < s.KernelH; kh++)
                {
                    int ih = oh * s.StrideH - s.PadH + kh;
                    byte* tap = row + kh * s.KernelW * c;
                    if (ih < 0 || ih >= s.Height || kwStart >= kwEnd)
                    {
                        new Span<byte>(tap, s.KernelW * c).Clear();
                        continue;
                    }
                    new Span<byte>(tap, kwStart * c).Clear();
                    Buffer.MemoryCopy(image + ((long)ih * s.Width + iwStart + kwStart) * c, tap + kwStart * c,
                        (kwEnd - kwStart) * c, (kwEnd - kwStart) * c);
                    new Span<byte>(tap + kwEnd * c, (s.KernelW - kwEnd) * c).Clear();
                }
            }
        }
    }
}
