// Float 2-D convolution on the accelerator with its inference epilogue fused: bias, BatchNorm scale + shift, max pool.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// A network's float stem in one launch: <c>v[b, y, x, o] = (Σ_{ky, kx, c} x[b, y·StrideH − PadH + ky, x·StrideW − PadW + kx, c]
/// · w[o, ky, kx, c] + bias[o]) · scale[o] + shift[o]</c> (zero padding, OHWI weights, NHWC values), then, with
/// <c>poolKernel</c> &gt; 0, the maximum over each poolKernel × poolKernel window of v at stride poolStride (no padding).
/// Pass zeros for no bias and ones and zeros for no BatchNorm: they change no value. One thread per output element
/// (pooled or not) sums its taps in (ky, kx, c) order, as the CPU SGEMM orders K, though without fused multiply-adds,
/// so the values agree with the CPU to rounding. The direct form suits stems (K = kernel² · channels of a few dozen);
/// launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuFloatConv2d
{
    /// <summary>Output height of the convolution followed by a max pool of <paramref name="poolKernel"/> (0: none).</summary>
    public static int PooledHeight(Conv2dShape shape, int poolKernel, int poolStride) =>
        poolKernel == 0 ? shape.OutputHeight : (shape.OutputHeight - poolKernel) / poolStride + 1;

    /// <summary>Output width of the convolution followed by a max pool of <paramref name="poolKernel"/> (0: none).</summary>
    public static int PooledWidth(Conv2dShape shape, int poolKernel, int poolStride) =>
        poolKernel == 0 ? shape.OutputWidth : (shape.OutputWidth - poolKernel) / poolStride + 1;

    /// <summary>
    /// Writes <c>Batch · PooledHeight · PooledWidth · Filters</c> floats (NHWC) into <paramref name="output"/>:
    /// the convolution of <paramref name="input"/> (<c>Batch · Height · Width · Channels</c>) with OHWI
    /// <paramref name="weight"/>, bias, scale and shift (one per filter), then the max pool.
    /// </summary>
    public static void Forward(GpuDevice device, ArrayView<float> input, Conv2dShape shape, ArrayView<float> weight, ArrayView<float> bias,
        ArrayView<float> scale, ArrayView<float> shift, int poolKernel, int poolStride, ArrayView<float> output)
    {
        GpuChecks.Device(device, nameof(device));
        shape.Validate();
        if (poolKernel < 0 || (poolKernel > 0 && (poolStride < 1 || poolKernel > shape.OutputHeight || poolKernel > shape.OutputWidth)))
            throw new ArgumentOutOfRangeException(nameof(poolKernel), poolKernel,
                $"poolKernel must be 0 (no pooling) or fit the {shape.OutputHeight}x{shape.OutputWidth} output with a poolStride of at least 1.");
        int k = shape.KernelH * shape.KernelW * shape.Channels;
        int height = PooledHeight(shape, poolKernel, poolStride), width = PooledWidth(shape, poolKernel, poolStride);
        long outputs = (long)shape.Batch * height * width * shape.Filters;
        GpuChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch * Height * Width * Channels");
        GpuChecks.Length(weight, (long)shape.Filters * k, nameof(weight), "Filters * KernelH * KernelW * Channels, OHWI");
        GpuChecks.Length(bias, shape.Filters, nameof(bias), "one float per filter");
        GpuChecks.Length(scale, shape.Filters, nameof(scale), "one float per filter");
        GpuChecks.Length(shift, shape.Filters, nameof(shift), "one float per filter");
        GpuChecks.Length(output, outputs, nameof(output), "Batch * PooledHeight * PooledWidth * Filters");
        GpuChecks.FitsInt(Math.Max(outputs, (long)shape.Batch * shape.Height * shape.Width * shape.Channels), "the input or the output");
        var geometry = new Geometry(shape.Height, shape.Width, shape.Channels, shape.Filters, shape.KernelH, shape.KernelW, shape.StrideH,
            shape.StrideW, shape.PadH, shape.PadW, height, width, poolKernel == 0 ? 1 : poolKernel, poolKernel == 0 ? 1 : poolStride);
        device.Kernel("float-conv-fused", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, Geometry, ArrayView<float>, ArrayView<float>, Epilogue, ArrayView<float>>(ForwardKernel))(
            (int)outputs, geometry, input, weight, new Epilogue(bias, scale, shift), output);
    }

    /// <summary>One thread per output element: each convolution output of its pool window, transformed, then the maximum.</summary>
    private static void ForwardKernel(Index1D index, Geometry g, ArrayView<float> input, ArrayView<float> weight, Epilogue epilogue,
        ArrayView<float> output)
    {
        int filter = index % g.Filters, position = index / g.Filters;
        int px = position % g.PooledWidth, rest = position / g.PooledWidth, py = rest % g.PooledHeight, image = rest / g.PooledHeight;
        int k = g.KernelH * g.KernelW * g.Channels;
        float best = 0f;
        for (int wy = 0; wy < g.PoolKernel; wy++)
            for (int wx = 0; wx < g.PoolKernel; wx++)
            {
                int top = (py * g.PoolStride + wy) * g.StrideH - g.PadH, left = (px * g.PoolStride + wx) * g.StrideW - g.PadW;
                float sum = 0f;
                int tap = filter * k;
                for (int ky = 0; ky < g.KernelH; ky++)
                {
                    int iy = top + ky;
                    for (int kx = 0; kx < g.KernelW; kx++, tap += g.Channels)
                    {
                        int ix = left + kx;
                        if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width)
                            continue;
                        int cell = ((image * g.Height + iy) * g.Width + ix) * g.Channels;
                        for (int c = 0; c < g.Channels; c++)
                            sum += input[cell + c] * weight[tap + c];
                    }
                }
                float value = (sum + epilogue.Bias[filter]) * epilogue.Scale[filter];
                value += epilogue.Shift[filter];
                if ((wy == 0 && wx == 0) || value > best)
                    best = value;
            }
        output[index] = best;
    }

    /// <summary>The scalar arguments of one launch (PoolKernel and PoolStride 1 without pooling).</summary>
    internal readonly record struct Geometry(int Height, int Width, int Channels, int Filters, int KernelH, int KernelW, int StrideH, int StrideW,
        int PadH, int PadW, int PooledHeight, int PooledWidth, int PoolKernel, int PoolStride);

    /// <summary>The per-filter bias, scale and shift.</summary>
    internal readonly record struct Epilogue(ArrayView<float> Bias, ArrayView<float> Scale, ArrayView<float> Shift);
}
