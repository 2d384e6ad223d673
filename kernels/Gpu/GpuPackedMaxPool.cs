// Max pooling of packed ±1 values on the accelerator: the AND of the words of each window (bit 1 = −1, so −1 wins only where every cell is −1).
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Max pooling of packed NHWC signs (<c>ceil(Channels / 64)</c> words per position): the maximum of ±1 values is +1
/// (bit 0) unless every cell is −1, so each output word is the AND of its window's words over the real cells (padded
/// cells take no part), the numbers of <see cref="PackedMaxPool"/>. Tail bits stay zero. Exact. Launches are
/// asynchronous on the device's default stream.
/// </summary>
public static class GpuPackedMaxPool
{
    /// <summary>Writes <c>OutputPositions · ceil(Channels / 64)</c> words of <paramref name="output"/>.</summary>
    public static void Forward(GpuDevice device, ArrayView<ulong> input, Pool2dShape shape, ArrayView<ulong> output)
    {
        GpuChecks.Device(device, nameof(device));
        var g = PoolGeometry.From(shape);
        int words = SignPacking.WordsFor(shape.Channels);
        GpuChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * words, nameof(input), "Batch * Height * Width * ceil(Channels / 64) words");
        GpuChecks.Length(output, (long)shape.OutputPositions * words, nameof(output), "OutputPositions * ceil(Channels / 64) words");
        GpuChecks.FitsInt((long)shape.Batch * shape.Height * shape.Width * words, "the packed input");
        device.Kernel("packed-maxpool", typeof(ulong), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, PoolGeometry, int, ArrayView<ulong>, ArrayView<ulong>>(ForwardKernel))(
            shape.OutputPositions * words, g, words, input, output);
    }

    /// <summary>One thread per output word.</summary>
    private static void ForwardKernel(Index1D index, PoolGeometry g, int words, ArrayView<ulong> input, ArrayView<ulong> output)
    {
        int word = index % words, position = index / words;
        int ow = position % g.OutputWidth, rest = position / g.OutputWidth, oh = rest % g.OutputHeight, image = rest / g.OutputHeight;
        int top = oh * g.StrideH - g.PadH, left = ow * g.StrideW - g.PadW;
        int kyLo = IntrinsicMath.Max(0, -top), kyHi = IntrinsicMath.Min(g.KernelH, g.Height - top);
        int kxLo = IntrinsicMath.Max(0, -left), kxHi = IntrinsicMath.Min(g.KernelW, g.Width - left);
        ulong bits = ~0UL;
        for (int ky = kyLo; ky < kyHi; ky++)
            for (int kx = kxLo; kx < kxHi; kx++)
                bits &= input[((image * g.Height + top + ky) * g.Width + left + kx) * words + word];
        output[index] = bits;
    }
}
