// Global average pooling: the mean of each channel over all positions of a sample, and its backward.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>y[b, c] = (1 / (height × width)) Σ_{h, w} x[b, h, w, c]</c> (sums in double, in order); backward
/// <c>dx[b, h, w, c] = dy[b, c] / (height × width)</c>.
/// </summary>
public sealed class GlobalAvgPoolLayer : Layer
{
    private readonly int positions, channels;

    /// <summary>Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>.</summary>
    public GlobalAvgPoolLayer(string name, int batch, int height, int width, int channels, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * height * width * channels, (long)batch * channels, path, threads)
    {
        if (height <= 0 || width <= 0 || channels <= 0)
            throw new ArgumentException($"Layer '{name}': height ({height}), width ({width}) and channels ({channels}) must be at least 1.", nameof(height));
        positions = height * width;
        this.channels = channels;
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        for (int b = 0; b < Batch; b++)
        {
            var image = x.Slice(b * positions * channels, positions * channels);
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int p = 0; p < positions; p++)
                    sum += image[p * channels + c];
                y[b * channels + c] = (float)(sum / positions);
            }
        }
    }

    /// <summary>Spreads dy evenly over the positions; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (dx.IsEmpty)
            return;
        float inverse = 1f / positions;
        for (int b = 0; b < Batch; b++)
        {
            var gradient = dy.Slice(b * channels, channels);
            var image = dx.Slice(b * positions * channels, positions * channels);
            for (int p = 0; p < positions; p++)
                for (int c = 0; c < channels; c++)
                    image[p * channels + c] = gradient[c] * inverse;
        }
    }
}
