// The scalar arguments of the GPU pooling kernels, and the window arithmetic they share.
using BnnDsl.Kernels.Cpu;
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

/// <summary>A validated <see cref="Pool2dShape"/> with its output size, passed to kernels as one struct.</summary>
internal readonly record struct PoolGeometry(int Height, int Width, int Channels, int KernelH, int KernelW, int StrideH, int StrideW,
    int PadH, int PadW, int OutputHeight, int OutputWidth)
{
    public static PoolGeometry From(Pool2dShape shape)
    {
        shape.Validate();
        return new PoolGeometry(shape.Height, shape.Width, shape.Channels, shape.KernelH, shape.KernelW, shape.StrideH, shape.StrideW,
            shape.PadH, shape.PadW, shape.OutputHeight, shape.OutputWidth);
    }

    /// <summary>The first output row (or column) whose window holds input row <paramref name="i"/>.</summary>
    public static int FirstWindow(int i, int pad, int kernel, int stride)
    {
        int t = i + pad - kernel + 1;
        return t <= 0 ? 0 : (t + stride - 1) / stride;
    }

    /// <summary>The last output row (or column) whose window holds input row <paramref name="i"/>, at most <paramref name="outputs"/> − 1.</summary>
    public static int LastWindow(int i, int pad, int stride, int outputs) => IntrinsicMath.Min((i + pad) / stride, outputs - 1);
}
