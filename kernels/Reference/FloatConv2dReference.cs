// The definition of the float convolution, im2col and col2im, one cell at a time; the test oracle.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Reference;

/// <summary>Naive NHWC convolution with OHWI weights and zero padding, and the im2col pair it is built on.</summary>
public static class FloatConv2dReference
{
    /// <summary>Output [Batch][OutputHeight][OutputWidth][Filters]; <paramref name="bias"/> empty means no bias.</summary>
    public static float[] Forward(Conv2dShape s, ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        var output = new float[s.OutputPositions * s.Filters];
        for (int b = 0; b < s.Batch; b++)
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                    for (int o = 0; o < s.Filters; o++)
                    {
                        double sum = bias.IsEmpty ? 0 : bias[o];
                        for (int kh = 0; kh < s.KernelH; kh++)
                            for (int kw = 0; kw < s.KernelW; kw++)
                            {
                                int ih = oh * s.StrideH - s.PadH + kh, iw = ow * s.StrideW - s.PadW + kw;
                                if (ih < 0 || ih >= s.Height || iw < 0 || iw >= s.Width)
                                    continue;
                                for (int c = 0; c < s.Channels; c++)
                                    sum += (double)input[((b * s.Height + ih) * s.Width + iw) * s.Channels + c]
                                        * weights[((o * s.KernelH + kh) * s.KernelW + kw) * s.Channels + c];
                            }
                        output[((b * s.OutputHeight + oh) * s.OutputWidth + ow) * s.Filters + o] = (float)sum;
                    }
        return output;
    }

    /// <summary>Row (b, oh, ow), column (kh, kw, c): the input cell the window reads there, 0 for padding.</summary>
    public static float[] Im2Col(Conv2dShape s, ReadOnlySpan<float> input)
    {
        int k = s.KernelH * s.KernelW * s.Channels;
        var columns = new float[s.OutputPositions * k];
        for (int b = 0; b < s.Batch; b++)
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                    for (int kh = 0; kh < s.KernelH; kh++)
                        for (int kw = 0; kw < s.KernelW; kw++)
                            for (int c = 0; c < s.Channels; c++)
                            {
                                int ih = oh * s.StrideH - s.PadH + kh, iw = ow * s.StrideW - s.PadW + kw;
                                int row = (b * s.OutputHeight + oh) * s.OutputWidth + ow;
                                bool inside = ih >= 0 && ih < s.Height && iw >= 0 && iw < s.Width;
                                columns[row * k + (kh * s.KernelW + kw) * s.Channels + c] =
                                    inside ? input[((b * s.Height + ih) * s.Width + iw) * s.Channels + c] : 0f;
                            }
        return columns;
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: each column entry is added to the input cell it came from.</summary>
    public static float[] Col2Im(Conv2dShape s, ReadOnlySpan<float> columns)
    {
        int k = s.KernelH * s.KernelW * s.Channels;
        var input = new float[s.Batch * s.Height * s.Width * s.Channels];
        for (int b = 0; b < s.Batch; b++)
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                    for (int kh = 0; kh < s.KernelH; kh++)
                        for (int kw = 0; kw < s.KernelW; kw++)
                            for (int c = 0; c < s.Channels; c++)
                            {
                                int ih = oh * s.StrideH - s.PadH + kh, iw = ow * s.StrideW - s.PadW + kw;
                                if (ih < 0 || ih >= s.Height || iw < 0 || iw >= s.Width)
                                    continue;
                                int row = (b * s.OutputHeight + oh) * s.OutputWidth + ow;
                                input[((b * s.Height + ih) * s.Width + iw) * s.Channels + c] += columns[row * k + (kh * s.KernelW + kw) * s.Channels + c];
                            }
        return input;
    }
}
