// The definition of float max / average / global average pooling on NHWC, one cell at a time; the test oracle.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Reference;

/// <summary>Naive pooling: padded cells are skipped; the average divides by the number of real cells.</summary>
public static class FloatPoolingReference
{
    /// <summary>Max over the real cells of each window.</summary>
    public static float[] MaxPool(Pool2dShape s, ReadOnlySpan<float> input) => Pool(s, input, average: false);

    /// <summary>Mean over the real cells of each window (padding excluded from the divisor).</summary>
    public static float[] AvgPool(Pool2dShape s, ReadOnlySpan<float> input) => Pool(s, input, average: true);

    /// <summary>Mean over all positions of each image and channel: output [batch][channels].</summary>
    public static float[] GlobalAvgPool(int batch, int height, int width, int channels, ReadOnlySpan<float> input)
    {
        var output = new float[batch * channels];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int p = 0; p < height * width; p++)
                    sum += input[(b * height * width + p) * channels + c];
                output[b * channels + c] = (float)(sum / (height * width));
            }
        return output;
    }

    private static float[] Pool(Pool2dShape s, ReadOnlySpan<float> input, bool average)
    {
        var output = new float[s.Batch * s.OutputHeight * s.OutputWidth * s.Channels];
        for (int b = 0; b < s.Batch; b++)
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                    for (int c = 0; c < s.Channels; c++)
                    {
                        double sum = 0;
                        float max = float.NegativeInfinity;
                        int count = 0;
                        for (int kh = 0; kh < s.KernelH; kh++)
                            for (int kw = 0; kw < s.KernelW; kw++)
                            {
                                int ih = oh * s.StrideH - s.PadH + kh, iw = ow * s.StrideW - s.PadW + kw;
                                if (ih < 0 || ih >= s.Height || iw < 0 || iw >= s.Width)
                                    continue;
                                float x = input[((b * s.Height + ih) * s.Width + iw) * s.Channels + c];
                                sum += x;
                                max = Math.Max(max, x);
                                count++;
                            }
                        output[((b * s.OutputHeight + oh) * s.OutputWidth + ow) * s.Channels + c] = average ? (float)(sum / count) : max;
                    }
        return output;
    }
}
