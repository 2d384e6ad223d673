// Average pooling (padded cells count as zeros) and global average pooling on the accelerator, forward and backward.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// The runtime's <c>AvgPoolLayer</c> (<c>y = Σ window / (KernelH·KernelW)</c> over the real cells, padded cells
/// counting as zeros: PyTorch's <c>count_include_pad=True</c>; <c>dx[cell] = Σ dy / (KernelH·KernelW)</c> over the
/// windows holding the cell, gathered in output order) and <c>GlobalAvgPoolLayer</c> (<c>y[b, c]</c> = the mean over
/// the positions, summed in double in order; <c>dx = dy / positions</c>). One thread per output element, no atomics;
/// the sums run in the CPU's order. Launches are asynchronous.
/// </summary>
public static class GpuAvgPool
{
    /// <summary>Average pooling forward: <paramref name="y"/> is <c>OutputPositions · Channels</c> long.</summary>
    public static void Forward(GpuDevice device, ArrayView<float> x, Pool2dShape shape, ArrayView<float> y)
    {
        var g = Check(device, shape, x, nameof(x), y, nameof(y));
        device.Kernel("avgpool-forward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, PoolGeometry, ArrayView<float>, ArrayView<float>>(ForwardKernel))(
            shape.OutputPositions * shape.Channels, g, x, y);
    }

    /// <summary>Average pooling backward: writes every cell of <paramref name="dx"/>.</summary>
    public static void Backward(GpuDevice device, ArrayView<float> dy, Pool2dShape shape, ArrayView<float> dx)
    {
        var g = Check(device, shape, dx, nameof(dx), dy, nameof(dy));
        device.Kernel("avgpool-backward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, PoolGeometry, ArrayView<float>, ArrayView<float>>(BackwardKernel))(
            shape.Batch * shape.Height * shape.Width * shape.Channels, g, dy, dx);
    }

    /// <summary>Global average pooling forward over <paramref name="positions"/> (= height·width) rows per image: y is <c>batch · channels</c>.</summary>
    public static void GlobalForward(GpuDevice device, ArrayView<float> x, int batch, int positions, int channels, ArrayView<float> y)
    {
        CheckGlobal(device, batch, positions, channels, x, nameof(x), y, nameof(y));
        device.Kernel("global-avgpool-forward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(GlobalForwardKernel))(
            batch * channels, positions, channels, x, y);
    }

    /// <summary>Global average pooling backward: <c>dx[b, p, c] = dy[b, c] / positions</c>.</summary>
    public static void GlobalBackward(GpuDevice device, ArrayView<float> dy, int batch, int positions, int channels, ArrayView<float> dx)
    {
        CheckGlobal(device, batch, positions, channels, dx, nameof(dx), dy, nameof(dy));
        device.Kernel("global-avgpool-backward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(GlobalBackwardKernel))(
            batch * positions * channels, positions, channels, dy, dx);
    }

    private static PoolGeometry Check(GpuDevice device, Pool2dShape shape, ArrayView<float> input, string inputName,
        ArrayView<float> output, string outputName)
    {
        GpuChecks.Device(device, nameof(device));
        var g = PoolGeometry.From(shape);
        GpuChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, inputName, "Batch * Height * Width * Channels");
        GpuChecks.Length(output, (long)shape.OutputPositions * shape.Channels, outputName, "OutputPositions * Channels");
        return g;
    }

    private static void CheckGlobal(GpuDevice device, int batch, int positions, int channels, ArrayView<float> input, string inputName,
        ArrayView<float> output, string outputName)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(batch, nameof(batch));
        GpuChecks.Positive(positions, nameof(positions));
        GpuChecks.Positive(channels, nameof(channels));
        GpuChecks.FitsInt((long)batch * positions * channels, "batch * positions * channels");
        GpuChecks.Length(input, (long)batch * positions * channels, inputName, "batch * positions * channels");
        GpuChecks.Length(output, (long)batch * channels, outputName, "batch * channels");
    }

    /// <summary>One thread per output element: the window's real cells in order, then times 1 / kernel².</summary>
    private static void ForwardKernel(Index1D index, PoolGeometry g, ArrayView<float> x, ArrayView<float> y)
    {
        int c = g.Channels, channel = index % c, position = index / c;
        int ow = position % g.OutputWidth, rest = position / g.OutputWidth, oh = rest % g.OutputHeight, image = rest / g.OutputHeight;
        int top = oh * g.StrideH - g.PadH, left = ow * g.StrideW - g.PadW;
        int kyLo = IntrinsicMath.Max(0, -top), kyHi = IntrinsicMath.Min(g.KernelH, g.Height - top);
        int kxLo = IntrinsicMath.Max(0, -left), kxHi = IntrinsicMath.Min(g.KernelW, g.Width - left);
        float sum = 0f;
        for (int ky = kyLo; ky < kyHi; ky++)
            for (int kx = kxLo; kx < kxHi; kx++)
                sum += x[((image * g.Height + top + ky) * g.Width + left + kx) * c + channel];
        y[index] = sum * (1f / (g.KernelH * g.KernelW));
    }

    /// <summary>One thread per input element: dy / kernel² of each window holding it, in output order.</summary>
    private static void BackwardKernel(Index1D index, PoolGeometry g, ArrayView<float> dy, ArrayView<float> dx)
    {
        int c = g.Channels, channel = index % c, cell = index / c;
        int ix = cell % g.Width, rest = cell / g.Width, iy = rest % g.Height, image = rest / g.Height;
        int ohHi = PoolGeometry.LastWindow(iy, g.PadH, g.StrideH, g.OutputHeight);
        int owHi = PoolGeometry.LastWindow(ix, g.PadW, g.StrideW, g.OutputWidth);
        float inverse = 1f / (g.KernelH * g.KernelW), sum = 0f;
        for (int oh = PoolGeometry.FirstWindow(iy, g.PadH, g.KernelH, g.StrideH); oh <= ohHi; oh++)
            for (int ow = PoolGeometry.FirstWindow(ix, g.PadW, g.KernelW, g.StrideW); ow <= owHi; ow++)
                sum += dy[((image * g.OutputHeight + oh) * g.OutputWidth + ow) * c + channel] * inverse;
        dx[index] = sum;
    }

    /// <summary>One thread per (image, channel): the positions summed in double, in order.</summary>
    private static void GlobalForwardKernel(Index1D index, int positions, int channels, ArrayView<float> x, ArrayView<float> y)
    {
        int image = index / channels, channel = index - image * channels;
        double sum = 0;
        for (int p = 0; p < positions; p++)
            sum += x[(image * positions + p) * channels + channel];
        y[index] = (float)(sum / positions);
    }

    /// <summary>One thread per input element.</summary>
    private static void GlobalBackwardKernel(Index1D index, int positions, int channels, ArrayView<float> dy, ArrayView<float> dx)
    {
        int channel = index % channels, image = index / (positions * channels);
        dx[index] = dy[image * channels + channel] * (1f / positions);
    }
}
