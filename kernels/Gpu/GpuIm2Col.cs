// Float im2col and its adjoint col2im on the accelerator (NHWC input, (ky, kx, c) columns): the float and binary
// convolutions' training passes, with the input itself or its signs and a chosen pad value.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <see cref="Im2Col"/> writes <c>OutputPositions</c> rows of <c>KernelH · KernelW · Channels</c> floats, row
/// (b, oy, ox), column (ky, kx, c): the input cell the window reads, or <c>sign(x)</c> (+1 for x &gt;= 0, −1 otherwise)
/// with <c>sign: true</c>, and <c>padValue</c> where the window reads padding (0 for a float convolution's zero padding,
/// +1 or 0 for a binary one's <see cref="BinaryPadding"/>), as <see cref="FloatConv2d.Im2Col"/> and the runtime's
/// convolution layers lay it out. <see cref="Col2Im"/> is the adjoint: every input cell gets the sum of the column
/// entries copied from it, gathered per cell in output order (oy, then ox), the order the CPU adds them, so there are no
/// atomics and no races; entries that read padding are dropped. Launches are asynchronous on the default stream.
/// </summary>
public static class GpuIm2Col
{
    /// <summary>Floats of the column matrix: <c>OutputPositions · KernelH · KernelW · Channels</c>.</summary>
    public static long ColumnsLength(Conv2dShape shape)
    {
        shape.Validate();
        return (long)shape.OutputPositions * shape.KernelH * shape.KernelW * shape.Channels;
    }

    /// <summary>Writes the columns of <paramref name="input"/> (or of its signs) into <paramref name="columns"/>.</summary>
    public static void Im2Col(GpuDevice device, ArrayView<float> input, Conv2dShape shape, ArrayView<float> columns, bool sign = false, float padValue = 0f)
    {
        var geometry = Check(device, input, shape, columns, nameof(input), nameof(columns));
        device.Kernel("im2col", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, Im2ColGeometry, ArrayView<float>, ArrayView<float>, int, float>(Im2ColKernel))(
            (int)ColumnsLength(shape), geometry, input, columns, sign ? 1 : 0, padValue);
    }

    /// <summary>Overwrites <paramref name="input"/> with the adjoint of <see cref="Im2Col"/> applied to <paramref name="columns"/>.</summary>
    public static void Col2Im(GpuDevice device, ArrayView<float> columns, Conv2dShape shape, ArrayView<float> input)
    {
        var geometry = Check(device, input, shape, columns, nameof(input), nameof(columns));
        device.Kernel("col2im", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, Im2ColGeometry, ArrayView<float>, ArrayView<float>>(Col2ImKernel))(
            shape.Batch * shape.Height * shape.Width * shape.Channels, geometry, columns, input);
    }

    private static Im2ColGeometry Check(GpuDevice device, ArrayView<float> input, Conv2dShape shape, ArrayView<float> columns,
        string inputName, string columnsName)
    {
        GpuChecks.Device(device, nameof(device));
        long columnsLength = ColumnsLength(shape);
        long inputLength = (long)shape.Batch * shape.Height * shape.Width * shape.Channels;
        GpuChecks.FitsInt(columnsLength, "OutputPositions * KernelH * KernelW * Channels");
        GpuChecks.FitsInt(inputLength, "Batch * Height * Width * Channels");
        GpuChecks.Length(input, inputLength, inputName, "Batch * Height * Width * Channels, NHWC");
        GpuChecks.Length(columns, columnsLength, columnsName, "OutputPositions * KernelH * KernelW * Channels");
        return new Im2ColGeometry(shape.Height, shape.Width, shape.Channels, shape.KernelH, shape.KernelW, shape.StrideH, shape.StrideW,
            shape.PadH, shape.PadW, shape.OutputHeight, shape.OutputWidth);
    }

    /// <summary>One thread per column entry.</summary>
    private static void Im2ColKernel(Index1D index, Im2ColGeometry g, ArrayView<float> input, ArrayView<float> columns, int sign, float padValue)
    {
        int c = g.Channels, patch = g.KernelH * g.KernelW * c;
        int row = index / patch, column = index - row * patch;
        int tap = column / c, channel = column - tap * c, ky = tap / g.KernelW, kx = tap - ky * g.KernelW;
        int ox = row % g.OutputWidth, rest = row / g.OutputWidth, oy = rest % g.OutputHeight, image = rest / g.OutputHeight;
        int iy = oy * g.StrideH - g.PadH + ky, ix = ox * g.StrideW - g.PadW + kx;
        float value = padValue;
        if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width)
        {
            value = input[((image * g.Height + iy) * g.Width + ix) * c + channel];
            if (sign != 0)
                value = value >= 0f ? 1f : -1f;
        }
        columns[index] = value;
    }

    /// <summary>One thread per input cell: the column entries of every window that reads it, in output order.</summary>
    private static void Col2ImKernel(Index1D index, Im2ColGeometry g, ArrayView<float> columns, ArrayView<float> input)
    {
        int c = g.Channels, channel = index % c, cell = index / c;
        int ix = cell % g.Width, rest = cell / g.Width, iy = rest % g.Height, image = rest / g.Height;
        int patch = g.KernelH * g.KernelW * c;
        int oyLo = PoolGeometry.FirstWindow(iy, g.PadH, g.KernelH, g.StrideH), oyHi = PoolGeometry.LastWindow(iy, g.PadH, g.StrideH, g.OutputHeight);
        int oxLo = PoolGeometry.FirstWindow(ix, g.PadW, g.KernelW, g.StrideW), oxHi = PoolGeometry.LastWindow(ix, g.PadW, g.StrideW, g.OutputWidth);
        float sum = 0f;
        for (int oy = oyLo; oy <= oyHi; oy++)
        {
            int ky = iy + g.PadH - oy * g.StrideH;
            if (ky < 0 || ky >= g.KernelH)
                continue;
            for (int ox = oxLo; ox <= oxHi; ox++)
            {
                int kx = ix + g.PadW - ox * g.StrideW;
                if (kx < 0 || kx >= g.KernelW)
                    continue;
                int row = (image * g.OutputHeight + oy) * g.OutputWidth + ox;
                sum += columns[row * patch + (ky * g.KernelW + kx) * c + channel];
            }
        }
        input[index] = sum;
    }

    /// <summary>The scalar arguments of one launch.</summary>
    internal readonly record struct Im2ColGeometry(int Height, int Width, int Channels, int KernelH, int KernelW, int StrideH, int StrideW,
        int PadH, int PadW, int OutputHeight, int OutputWidth);
}
