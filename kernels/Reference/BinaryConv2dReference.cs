// The definition of the binary convolution: a naive float convolution of sign(x) and sign(w) over NHWC / OHWI
// floats with padding +1 or 0, then the output transforms; the test oracle of BinaryConv2d.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Reference;

/// <summary>Naive binary convolution; see <see cref="BinaryConv2d"/> for the definition and layouts.</summary>
public static class BinaryConv2dReference
{
    /// <summary>
    /// Float convolution of <c>sign(input)</c> <c>[Batch][Height][Width][Channels]</c> with <c>sign(weights)</c>
    /// <c>[Filters][KernelH][KernelW][Channels]</c>; cells outside the image are +1 (<see cref="BinaryPadding.One"/>)
    /// or 0 (<see cref="BinaryPadding.Zero"/>). Returns <c>[Batch][OutputHeight][OutputWidth][Filters]</c> floats,
    /// each an integer exactly (sums of ±1 stay far below 2^24).
    /// </summary>
    public static float[] Convolve(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Conv2dShape shape, BinaryPadding padding)
    {
        shape.Validate();
        int outH = shape.OutputHeight, outW = shape.OutputWidth, n = shape.Filters, c = shape.Channels;
        float padValue = padding == BinaryPadding.One ? 1f : 0f;
        var output = new float[shape.OutputPositions * n];
        for (int b = 0; b < shape.Batch; b++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                    for (int o = 0; o < n; o++)
                    {
                        float sum = 0f;
                        for (int ky = 0; ky < shape.KernelH; ky++)
                            for (int kx = 0; kx < shape.KernelW; kx++)
                            {
                                int iy = oy * shape.StrideH - shape.PadH + ky, ix = ox * shape.StrideW - shape.PadW + kx;
                                bool inside = iy >= 0 && iy < shape.Height && ix >= 0 && ix < shape.Width;
                                for (int ch = 0; ch < c; ch++)
                                {
                                    float x = inside ? Sign(input[((b * shape.Height + iy) * shape.Width + ix) * c + ch]) : padValue;
                                    sum += x * Sign(weights[((o * shape.KernelH + ky) * shape.KernelW + kx) * c + ch]);
                                }
                            }
                        output[((b * outH + oy) * outW + ox) * n + o] = sum;
                    }
        return output;
    }

    /// <summary><see cref="Convolve"/> as int32 dot products.</summary>
    public static int[] Dots(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Conv2dShape shape, BinaryPadding padding)
        => Array.ConvertAll(Convolve(input, weights, shape, padding), v => (int)v);

    /// <summary><c>scale[o] * dot + bias[o]</c> per output position, <c>[positions][Filters]</c>.</summary>
    public static float[] ScaleBias(int[] dots, Conv2dShape shape, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias)
        => XnorGemmReference.ScaleBias(dots, shape.OutputPositions, shape.Filters, scale, bias);

    /// <summary>Packed NHWC output bits <c>[positions][ceil(Filters / 64)]</c>: bit o is 1 (-1) when dot &lt; threshold[o].</summary>
    public static ulong[] Threshold(int[] dots, Conv2dShape shape, ReadOnlySpan<int> threshold)
        => XnorGemmReference.Threshold(dots, shape.OutputPositions, shape.Filters, threshold);

    /// <summary>sign(x) = +1 for x &gt;= 0, else -1 (NaN is -1, as the packing has it).</summary>
    private static float Sign(float x) => x >= 0f ? 1f : -1f;
}
