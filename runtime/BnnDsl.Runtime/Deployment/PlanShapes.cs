// The kernel shapes of a plan step for a chunk of samples, shared by the CPU interpreter and the device session.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>The convolution and pooling shapes of a <see cref="PlanStep"/> and the packed rows of a tensor, for a chunk of samples.</summary>
internal static class PlanShapes
{
    /// <summary>Rows of packed channels of <paramref name="count"/> samples of <paramref name="shape"/>: positions for images, samples for vectors.</summary>
    public static int Rows(TensorShape shape, int count) => shape.Rank == 3 ? count * shape.Height * shape.Width : count;

    /// <summary>The convolution of a convolution step's layer on <paramref name="batch"/> samples.</summary>
    public static Conv2dShape Conv(PlanStep step, int batch)
    {
        var layer = step.Spec!;
        var input = layer.InputShape;
        return new Conv2dShape(batch, input.Height, input.Width, input.Channels, layer.Units,
            layer.Kernel, layer.Kernel, layer.Stride, layer.Stride, layer.Pad, layer.Pad);
    }

    /// <summary>The (unpadded) pooling of a pooling step on <paramref name="batch"/> samples.</summary>
    public static Pool2dShape Pool(PlanStep step, int batch) =>
        new(batch, step.Input.Height, step.Input.Width, step.Input.Channels, step.PoolKernel, step.PoolKernel, step.PoolStride, step.PoolStride, 0, 0);
}
