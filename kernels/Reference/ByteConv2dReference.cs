// The definition of the byte convolution as a plain integer loop over NHWC activation codes and OHWI weight levels; the test oracle.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Reference;

/// <summary>
/// Naive byte convolution: <c>D[(b, oh, ow), f] = Σ_(kh, kw, c) code[b, ih, iw, c] * level[f, kh, kw, c]</c> with
/// <c>ih = oh * StrideH - PadH + kh</c>, <c>iw = ow * StrideW - PadW + kw</c>, taps outside the image adding nothing
/// (code 0 in the padding); sums in int64, checked into int32.
/// </summary>
public static class ByteConv2dReference
{
    /// <summary>
    /// The dot products of the unpadded NHWC codes <paramref name="codes"/> with the OHWI weight levels
    /// <paramref name="levels"/>: <c>OutputPositions × Filters</c>, row-major.
    /// </summary>
    public static int[] Forward(Conv2dShape shape, ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> levels)
    {
        var s = shape;
        var d = new int[s.OutputPositions * s.Filters];
        for (int b = 0; b < s.Batch; b++)
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                    for (int f = 0; f < s.Filters; f++)
                    {
                        long sum = 0;
                        for (int kh = 0; kh < s.KernelH; kh++)
                            for (int kw = 0; kw < s.KernelW; kw++)
                            {
                                int ih = oh * s.StrideH - s.PadH + kh, iw = ow * s.StrideW - s.PadW + kw;
                                if (ih < 0 || ih >= s.Height || iw < 0 || iw >= s.Width)
                                    continue;
                                for (int c = 0; c < s.Channels; c++)
                                    sum += codes[((b * s.Height + ih) * s.Width + iw) * s.Channels + c]
                                        * levels[((f * s.KernelH + kh) * s.KernelW + kw) * s.Channels + c];
                            }
                        d[((b * s.OutputHeight + oh) * s.OutputWidth + ow) * s.Filters + f] = checked((int)sum);
                    }
        return d;
    }
}
