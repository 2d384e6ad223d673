// A float convolution's parameters prepared once for the packed path: weights in both layouts, bias, BatchNorm.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// What <see cref="PackedOps.FloatConv"/> reads: the geometry of one image, the OHWI weights, their K × filters
/// transpose and the tap offsets of the direct AVX2 kernel (see <see cref="FloatConvBlock"/>), the optional bias
/// and the optional BatchNorm as per-channel scale and shift. Built once per model and shared read-only.
/// </summary>
public sealed class FloatConvWeights
{
    /// <summary>
    /// Prepares a convolution of <paramref name="image"/>'s geometry (its batch is ignored) with OHWI
    /// <paramref name="weight"/> [filters, kernel, kernel, channels], an optional <paramref name="bias"/> and an
    /// optional BatchNorm <paramref name="scale"/> and <paramref name="shift"/> (both or neither, one per filter).
    /// </summary>
    /// <exception cref="ArgumentException">An array has the wrong length, or only one of scale and shift is given.</exception>
    public FloatConvWeights(Conv2dShape image, float[] weight, float[]? bias = null, float[]? scale = null, float[]? shift = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Image = image with { Batch = 1 };
        int filters = image.Filters, k = image.KernelH * image.KernelW * image.Channels;
        if (weight.Length != (long)filters * k)
            throw new ArgumentException($"weight holds {weight.Length} floats but {filters} filters of {k} need {(long)filters * k}; pass OHWI weights of this convolution.", nameof(weight));
        if (bias is not null && bias.Length != filters)
            throw new ArgumentException($"bias holds {bias.Length} floats but the convolution has {filters} filters; pass one per filter.", nameof(bias));
        if ((scale is null) != (shift is null) || (scale is not null && (scale.Length != filters || shift!.Length != filters)))
            throw new ArgumentException($"scale and shift must both be given, with one float per filter ({filters}), or both be null.", nameof(scale));
        Weight = weight;
        Bias = bias;
        Scale = scale;
        Shift = shift;
        WeightT = new float[k * filters];
        for (int o = 0; o < filters; o++)
            for (int j = 0; j < k; j++)
                WeightT[j * filters + o] = weight[o * k + j];
        Offsets = FloatConvBlock.DirectOffsets(Image);
    }

    /// <summary>The geometry of one image (batch 1).</summary>
    public Conv2dShape Image { get; }

    /// <summary>OHWI weights [filters, kernel, kernel, channels].</summary>
    public float[] Weight { get; }

    /// <summary>One bias per filter, or null.</summary>
    public float[]? Bias { get; }

    /// <summary>BatchNorm scale per filter, or null.</summary>
    public float[]? Scale { get; }

    /// <summary>BatchNorm shift per filter, or null.</summary>
    public float[]? Shift { get; }

    /// <summary>The weights transposed to K × filters, for the direct kernel.</summary>
    internal float[] WeightT { get; }

    /// <summary>Input offsets of the K steps relative to a window's top-left cell, for the direct kernel.</summary>
    internal int[] Offsets { get; }
}
