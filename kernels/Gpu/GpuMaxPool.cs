// Max pooling on the accelerator over NHWC floats: forward keeps each output's argmax, backward routes dy to it.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// The runtime's <c>MaxPoolLayer</c>: <c>y = max</c> over the real cells of each window (padded cells take no part),
/// argmax = the input index (over the whole batch) of the first maximum in window order (ky, then kx). Backward gives
/// each input cell the sum of the dy whose argmax it is, gathered per cell in output order (the order the CPU adds
/// them), so no atomics are needed and the result is the CPU's bit for bit. Launches are asynchronous.
/// </summary>
public static class GpuMaxPool
{
    /// <summary>Writes <paramref name="y"/> and <paramref name="argmax"/>, both <c>OutputPositions · Channels</c> long.</summary>
    public static void Forward(GpuDevice device, ArrayView<float> x, Pool2dShape shape, ArrayView<float> y, ArrayView<int> argmax)
    {
        GpuChecks.Device(device, nameof(device));
        var g = PoolGeometry.From(shape);
        int outputs = shape.OutputPositions * shape.Channels;
        GpuChecks.Length(x, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(x), "Batch * Height * Width * Channels");
        GpuChecks.Length(y, outputs, nameof(y), "OutputPositions * Channels");
        GpuChecks.Length(argmax, outputs, nameof(argmax), "OutputPositions * Channels");
        device.Kernel("maxpool-forward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, PoolGeometry, ArrayView<float>, ArrayView<float>, ArrayView<int>>(ForwardKernel))(outputs, g, x, y, argmax);
    }

    /// <summary>Writes every cell of <paramref name="dx"/>: the sum of the <paramref name="dy"/> whose argmax it is, else 0.</summary>
    public static void Backward(GpuDevice device, ArrayView<float> dy, ArrayView<int> argmax, Pool2dShape shape, ArrayView<float> dx)
    {
        GpuChecks.Device(device, nameof(device));
        var g = PoolGeometry.From(shape);
        int outputs = shape.OutputPositions * shape.Channels, inputs = shape.Batch * shape.Height * shape.Width * shape.Channels;
        GpuChecks.Length(dy, outputs, nameof(dy), "OutputPositions * Channels");
        GpuChecks.Length(argmax, outputs, nameof(argmax), "OutputPositions * Channels, from Forward");
        GpuChecks.Length(dx, inputs, nameof(dx), "Batch * Height * Width * Channels");
        device.Kernel("maxpool-backward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, PoolGeometry, ArrayView<float>, ArrayView<int>, ArrayView<float>>(BackwardKernel))(inputs, g, dy, argmax, dx);
    }

    /// <summary>One thread per output element.</summary>
    private static void ForwardKernel(Index1D index, PoolGeometry g, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax)
    {
        int c = g.Channels, channel = index % c, position = index / c;
        int ow = position % g.OutputWidth, rest = position / g.OutputWidth, oh = rest % g.OutputHeight, image = rest / g.OutputHeight;
        int top = oh * g.StrideH - g.PadH, left = ow * g.StrideW - g.PadW;
        int kyLo = IntrinsicMath.Max(0, -top), kyHi = IntrinsicMath.Min(g.KernelH, g.Height - top);
        int kxLo = IntrinsicMath.Max(0, -left), kxHi = IntrinsicMath.Min(g.KernelW, g.Width - left);
        int bestIndex = ((image * g.Height + top + kyLo) * g.Width + left + kxLo) * c + channel;
        float best = x[bestIndex];
        for (int ky = kyLo; ky < kyHi; ky++)
            for (int kx = kxLo; kx < kxHi; kx++)
            {
                int cell = ((image * g.Height + top + ky) * g.Width + left + kx) * c + channel;
                float value = x[cell];
                if (value > best)
                {
                    best = value;
                    bestIndex = cell;
                }
            }
        y[index] = best;
        argmax[index] = bestIndex;
    }

    /// <summary>One thread per input element: the windows that hold it, in output order.</summary>
    private static void BackwardKernel(Index1D index, PoolGeometry g, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx)
    {
        int c = g.Channels, channel = index % c, cell = index / c;
        int ix = cell % g.Width, rest = cell / g.Width, iy = rest % g.Height, image = rest / g.Height;
        int ohHi = PoolGeometry.LastWindow(iy, g.PadH, g.StrideH, g.OutputHeight);
        int owHi = PoolGeometry.LastWindow(ix, g.PadW, g.StrideW, g.OutputWidth);
        float sum = 0f;
        for (int oh = PoolGeometry.FirstWindow(iy, g.PadH, g.KernelH, g.StrideH); oh <= ohHi; oh++)
            for (int ow = PoolGeometry.FirstWindow(ix, g.PadW, g.KernelW, g.StrideW); ow <= owHi; ow++)
            {
                int output = ((image * g.OutputHeight + oh) * g.OutputWidth + ow) * c + channel;
                if (argmax[output] == index)
                    sum += dy[output];
            }
        dx[index] = sum;
    }
}
