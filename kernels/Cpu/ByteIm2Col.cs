// The im2col matrix of a convolution over byte activation codes (the A operand of the byte GEMM), code 0 in padding.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Writes the im2col matrix of NHWC byte codes: <c>OutputPositions</c> rows of <c>KernelH * KernelW * Channels</c>
/// bytes, row (b, oh, ow), column (kh, kw, c), as <see cref="FloatConv2d.Im2Col"/> orders floats; taps that read
/// padding get code 0 (the value 0, the zero padding of the float convolution). Each kernel row inside the image
/// is one copy of up to <c>KernelW * Channels</c> contiguous bytes.
/// </summary>
public static unsafe class ByteIm2Col
{
    /// <summary>Bytes of the im2col matrix of <paramref name="shape"/>: <c>OutputPositions * KernelH * KernelW * Channels</c>.</summary>
    public static long Length(Conv2dShape shape) => (long)shape.OutputPositions * shape.KernelH * shape.KernelW * shape.Channels;

    /// <summary>Writes the im2col rows of all <c>shape.Batch</c> images of <paramref name="codes"/> to <paramref name="columns"/>.</summary>
    public static void Forward(Conv2dShape shape, ReadOnlySpan<byte> codes, Span<byte> columns)
    {
        shape.Validate();
        KernelChecks.Length(codes, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(codes), "Batch × Height × Width × Channels");
        KernelChecks.Length(columns, Length(shape), nameof(columns), "OutputPositions × KernelH × KernelW × Channels");
        int c = shape.Channels, rowLength = shape.KernelH * shape.KernelW * c, imageLength = shape.Height * shape.Width * c;
        fixed (byte* input = codes)
        fixed (byte* output = columns)
        {
            byte* row = output;
            for (int b = 0; b < shape.Batch; b++)
            {
                byte* image = input + (long)b * imageLength;
                for (int oh = 0; oh < shape.OutputHeight; oh++)
                    for (int ow = 0; ow < shape.OutputWidth; ow++, row += rowLength)
                    {
                        int iwStart = ow * shape.StrideW - shape.PadW;
                        int kwStart = Math.Max(0, -iwStart), kwEnd = Math.Min(shape.KernelW, shape.Width - iwStart);
                        for (int kh = 0; kh < shape.KernelH; kh++)
                        {
                            int ih = oh * shape.StrideH - shape.PadH + kh;
                            byte* tap = row + kh * shape.KernelW * c;
                            if (ih < 0 || ih >= shape.Height || kwStart >= kwEnd)
                            {
                                new Span<byte>(tap, shape.KernelW * c).Clear();
                                continue;
                            }
                            new Span<byte>(tap, kwStart * c).Clear();
                            Buffer.MemoryCopy(image + ((long)ih * shape.Width + iwStart + kwStart) * c, tap + kwStart * c,
                                (kwEnd - kwStart) * c, (kwEnd - kwStart) * c);
                            new Span<byte>(tap + kwEnd * c, (shape.KernelW - kwEnd) * c).Clear();
                        }
                    }
            }
        }
    }
}
