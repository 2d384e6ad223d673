// The geometry of a 2-D pooling over NHWC input: sizes, window, stride, padding, output size.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Shape of a 2-D pooling: input <c>[Batch][Height][Width][Channels]</c> (NHWC), a
/// <see cref="KernelH"/> x <see cref="KernelW"/> window, output <c>[Batch][OutputHeight][OutputWidth][Channels]</c>.
/// Padded cells are ignored, so the padding must be smaller than the window (every window then holds at least
/// one real cell). Call <see cref="Validate"/> before trusting the derived sizes.
/// </summary>
public readonly record struct Pool2dShape(int Batch, int Height, int Width, int Channels,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    /// <summary>Output rows: <c>(Height + 2 * PadH - KernelH) / StrideH + 1</c>.</summary>
    public int OutputHeight => (Height + 2 * PadH - KernelH) / StrideH + 1;

    /// <summary>Output columns: <c>(Width + 2 * PadW - KernelW) / StrideW + 1</c>.</summary>
    public int OutputWidth => (Width + 2 * PadW - KernelW) / StrideW + 1;

    /// <summary>Output pixels over the whole batch: <c>Batch * OutputHeight * OutputWidth</c>.</summary>
    public int OutputPositions => Batch * OutputHeight * OutputWidth;

    /// <summary>A square input and window with the same stride and padding in both directions.</summary>
    public static Pool2dShape Square(int batch, int size, int channels, int kernel, int stride, int pad)
        => new(batch, size, size, channels, kernel, kernel, stride, stride, pad, pad);

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first bad field and the fix: sizes, window and stride
    /// at least 1, padding from 0 to the window size minus 1, the window no larger than the padded input.
    /// </summary>
    public void Validate()
    {
        KernelChecks.ShapeFieldPositive(Batch, nameof(Batch));
        KernelChecks.ShapeFieldPositive(Height, nameof(Height));
        KernelChecks.ShapeFieldPositive(Width, nameof(Width));
        KernelChecks.ShapeFieldPositive(Channels, nameof(Channels));
        KernelChecks.ShapeFieldPositive(KernelH, nameof(KernelH));
        KernelChecks.ShapeFieldPositive(KernelW, nameof(KernelW));
        KernelChecks.ShapeFieldPositive(StrideH, nameof(StrideH));
        KernelChecks.ShapeFieldPositive(StrideW, nameof(StrideW));
        PadBelowKernel(PadH, KernelH, nameof(PadH), nameof(KernelH));
        PadBelowKernel(PadW, KernelW, nameof(PadW), nameof(KernelW));
        KernelChecks.WindowFits(KernelH, Height, PadH, "window", "height", 'H');
        KernelChecks.WindowFits(KernelW, Width, PadW, "window", "width", 'W');
        if ((long)Batch * Height * Width * Channels > int.MaxValue)
            throw new ArgumentException(
                $"The input would hold Batch * Height * Width * Channels = {(long)Batch * Height * Width * Channels} elements, more than {int.MaxValue}; use a smaller batch.",
                nameof(Batch));
    }


    private static void PadBelowKernel(int pad, int kernel, string padName, string kernelName)
    {
        if (pad < 0 || pad >= kernel)
            throw new ArgumentException(
                $"{padName} is {pad} but must lie in 0..{kernelName} - 1 ({kernel - 1}): a window of padding alone has nothing to pool.",
                padName);
    }
}
