// The definition of max pooling on packed signs: unpack to ±1 floats, float max pool ignoring padded cells, repack.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Reference;

/// <summary>Naive max pooling of packed ±1 activations; see <see cref="PackedMaxPool"/> for the layout.</summary>
public static class PackedMaxPoolReference
{
    /// <summary>Returns the packed output <c>[Batch][OutputHeight][OutputWidth][ceil(Channels / 64)]</c>.</summary>
    public static ulong[] Forward(ReadOnlySpan<ulong> input, Pool2dShape shape)
    {
        shape.Validate();
        int c = shape.Channels, words = (c + 63) / 64, outH = shape.OutputHeight, outW = shape.OutputWidth;
        var values = new float[shape.Batch * shape.Height * shape.Width * c];
        for (int pixel = 0; pixel < shape.Batch * shape.Height * shape.Width; pixel++)
            for (int ch = 0; ch < c; ch++)
                values[pixel * c + ch] = SignPackingReference.SignAt(input.Slice(pixel * words, words), ch);

        var pooled = new float[shape.OutputPositions * c];
        for (int b = 0; b < shape.Batch; b++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        float max = float.NegativeInfinity;
                        for (int ky = 0; ky < shape.KernelH; ky++)
                            for (int kx = 0; kx < shape.KernelW; kx++)
                            {
                                int iy = oy * shape.StrideH - shape.PadH + ky, ix = ox * shape.StrideW - shape.PadW + kx;
                                if (iy >= 0 && iy < shape.Height && ix >= 0 && ix < shape.Width)
                                    max = Math.Max(max, values[((b * shape.Height + iy) * shape.Width + ix) * c + ch]);
                            }
                        pooled[((b * outH + oy) * outW + ox) * c + ch] = max;
                    }
        return SignPackingReference.Pack(pooled, shape.OutputPositions, c);
    }
}
