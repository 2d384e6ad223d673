// The geometry of a 2-D pooling window on NHWC tensors (window, stride, padding, output size), validated.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Shape of a 2-D pooling: input [Batch][Height][Width][Channels] (NHWC), output
/// [Batch][OutputHeight][OutputWidth][Channels]. Padding (PadH rows above and below, PadW columns left and right)
/// must be smaller than the window, so that every window holds at least one real cell.
/// </summary>
public readonly record struct Pool2dShape(int Batch, int Height, int Width, int Channels,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    /// <summary>Output rows: <c>(Height + 2 * PadH - KernelH) / StrideH + 1</c>.</summary>
    public int OutputHeight => (Height + 2 * PadH - KernelH) / StrideH + 1;

    /// <summary>Output columns: <c>(Width + 2 * PadW - KernelW) / StrideW + 1</c>.</summary>
    public int OutputWidth => (Width + 2 * PadW - KernelW) / StrideW + 1;

    /// <summary>A square window on square images, the same stride and padding on both axes.</summary>
    public static Pool2dShape Square(int batch, int size, int channels, int kernel, int stride, int pad)
        => new(batch, size, size, channels, kernel, kernel, stride, stride, pad, pad);

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        Positive(Batch, nameof(Batch));
        Positive(Height, nameof(Height));
        Positive(Width, nameof(Width));
        Positive(Channels, nameof(Channels));
        Positive(KernelH, nameof(KernelH));
        Positive(KernelW, nameof(KernelW));
        Positive(StrideH, nameof(StrideH));
        Positive(StrideW, nameof(StrideW));
        if (PadH < 0 || PadH >= KernelH)
            throw new ArgumentOutOfRangeException(nameof(PadH), PadH, $"PadH must be in [0, KernelH - 1] = [0, {KernelH - 1}].");
        if (PadW < 0 || PadW >= KernelW)
            throw new ArgumentOutOfRangeException(nameof(PadW), PadW, $"PadW must be in [0, KernelW - 1] = [0, {KernelW - 1}].");
        if (KernelH > Height + 2 * PadH)
            throw new ArgumentOutOfRangeException(nameof(KernelH), KernelH,
                $"KernelH ({KernelH}) is larger than the padded input height ({Height + 2 * PadH}); use a smaller window or more padding.");
        if (KernelW > Width + 2 * PadW)
            throw new ArgumentOutOfRangeException(nameof(KernelW), KernelW,
                $"KernelW ({KernelW}) is larger than the padded input width ({Width + 2 * PadW}); use a smaller window or more padding.");
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }
}
