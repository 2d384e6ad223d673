// The geometry of a 2-D convolution on NHWC tensors (input, kernel, stride, zero padding, output size), validated.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Shape of a 2-D convolution: input [Batch][Height][Width][Channels] (NHWC), weights
/// [Filters][KernelH][KernelW][Channels] (OHWI), output [Batch][OutputHeight][OutputWidth][Filters].
/// The input is padded by PadH rows above and below and PadW columns left and right.
/// </summary>
public readonly record struct Conv2dShape(int Batch, int Height, int Width, int Channels, int Filters,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    /// <summary>Output rows: <c>(Height + 2 * PadH - KernelH) / StrideH + 1</c>.</summary>
    public int OutputHeight => (Height + 2 * PadH - KernelH) / StrideH + 1;

    /// <summary>Output columns: <c>(Width + 2 * PadW - KernelW) / StrideW + 1</c>.</summary>
    public int OutputWidth => (Width + 2 * PadW - KernelW) / StrideW + 1;

    /// <summary>Output positions over the whole batch: <c>Batch * OutputHeight * OutputWidth</c>.</summary>
    public int OutputPositions => Batch * OutputHeight * OutputWidth;

    /// <summary>A square convolution: square images, square kernel, the same stride and padding on both axes.</summary>
    public static Conv2dShape Square(int batch, int size, int channels, int filters, int kernel, int stride, int pad)
        => new(batch, size, size, channels, filters, kernel, kernel, stride, stride, pad, pad);

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        Positive(Batch, nameof(Batch));
        Positive(Height, nameof(Height));
        Positive(Width, nameof(Width));
        Positive(Channels, nameof(Channels));
        Positive(Filters, nameof(Filters));
        Positive(KernelH, nameof(KernelH));
        Positive(KernelW, nameof(KernelW));
        Positive(StrideH, nameof(StrideH));
        Positive(StrideW, nameof(StrideW));
        if (PadH < 0)
            throw new ArgumentOutOfRangeException(nameof(PadH), PadH, "PadH must not be negative.");
        if (PadW < 0)
            throw new ArgumentOutOfRangeException(nameof(PadW), PadW, "PadW must not be negative.");
        if (KernelH > Height + 2 * PadH)
            throw new ArgumentOutOfRangeException(nameof(KernelH), KernelH,
                $"KernelH ({KernelH}) is larger than the padded input height (Height + 2 * PadH = {Height + 2 * PadH}); use a smaller kernel or more padding.");
        if (KernelW > Width + 2 * PadW)
            throw new ArgumentOutOfRangeException(nameof(KernelW), KernelW,
                $"KernelW ({KernelW}) is larger than the padded input width (Width + 2 * PadW = {Width + 2 * PadW}); use a smaller kernel or more padding.");
        if ((long)Batch * OutputHeight * OutputWidth * Math.Max(Filters, KernelH * KernelW * Channels) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(Batch), Batch,
                "The output or the im2col matrix would exceed int.MaxValue elements; use a smaller batch.");
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }
}
