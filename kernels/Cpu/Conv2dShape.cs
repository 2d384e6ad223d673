// The geometry of a 2-D convolution over NHWC input and OHWI weights: sizes, kernel, stride, padding, output size.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Shape of a 2-D convolution: input <c>[Batch][Height][Width][Channels]</c> (NHWC), weights
/// <c>[Filters][KernelH][KernelW][Channels]</c> (OHWI), <see cref="PadH"/> rows above and below and
/// <see cref="PadW"/> columns left and right, output <c>[Batch][OutputHeight][OutputWidth][Filters]</c>.
/// Call <see cref="Validate"/> before trusting the derived sizes.
/// </summary>
public readonly record struct Conv2dShape(int Batch, int Height, int Width, int Channels, int Filters,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    /// <summary>Output rows: <c>(Height + 2 * PadH - KernelH) / StrideH + 1</c>.</summary>
    public int OutputHeight => (Height + 2 * PadH - KernelH) / StrideH + 1;

    /// <summary>Output columns: <c>(Width + 2 * PadW - KernelW) / StrideW + 1</c>.</summary>
    public int OutputWidth => (Width + 2 * PadW - KernelW) / StrideW + 1;

    /// <summary>Output pixels over the whole batch: <c>Batch * OutputHeight * OutputWidth</c> (the M of the GEMM).</summary>
    public int OutputPositions => Batch * OutputHeight * OutputWidth;

    /// <summary>A square input and kernel with the same stride and padding in both directions.</summary>
    public static Conv2dShape Square(int batch, int size, int channels, int filters, int kernel, int stride, int pad)
        => new(batch, size, size, channels, filters, kernel, kernel, stride, stride, pad, pad);

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first bad field and the fix: every size, kernel and
    /// stride at least 1, padding not negative, the kernel no larger than the padded input, and every tensor small
    /// enough to index with an int.
    /// </summary>
    public void Validate()
    {
        KernelChecks.ShapeFieldPositive(Batch, nameof(Batch));
        KernelChecks.ShapeFieldPositive(Height, nameof(Height));
        KernelChecks.ShapeFieldPositive(Width, nameof(Width));
        KernelChecks.ShapeFieldPositive(Channels, nameof(Channels));
        KernelChecks.ShapeFieldPositive(Filters, nameof(Filters));
        KernelChecks.ShapeFieldPositive(KernelH, nameof(KernelH));
        KernelChecks.ShapeFieldPositive(KernelW, nameof(KernelW));
        KernelChecks.ShapeFieldPositive(StrideH, nameof(StrideH));
        KernelChecks.ShapeFieldPositive(StrideW, nameof(StrideW));
        NonNegative(PadH, nameof(PadH));
        NonNegative(PadW, nameof(PadW));
        KernelChecks.WindowFits(KernelH, Height, PadH, "kernel", "height", 'H');
        KernelChecks.WindowFits(KernelW, Width, PadW, "kernel", "width", 'W');
        FitsInInt((long)Batch * Height * Width * Channels, "Batch * Height * Width * Channels", "the input", nameof(Batch));
        FitsInInt((long)Filters * KernelH * KernelW * Channels, "Filters * KernelH * KernelW * Channels", "the weights", nameof(Filters));
        FitsInInt((long)Batch * OutputHeight * OutputWidth * Filters, "Batch * OutputHeight * OutputWidth * Filters", "the output", nameof(Batch));
    }


    private static void NonNegative(int value, string name)
    {
        if (value < 0)
            throw new ArgumentException($"{name} is {value} but must not be negative.", name);
    }

    private static void FitsInInt(long count, string formula, string what, string name)
    {
        if (count > int.MaxValue)
            throw new ArgumentException(
                $"{what} would hold {formula} = {count} elements, more than {int.MaxValue}; use a smaller batch or smaller sizes.",
                name);
    }
}
