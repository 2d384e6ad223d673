// PackedOps.BitSerialConv on the byte path, both ways it runs (ByteConv2d on padded codes with the BatchNorm in its
// output stage; byte im2col + ByteGemm + Affine), against a scalar loop doing the same float operations.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Runtime.Tests.Deployment;

public class BitSerialConvTests
{
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in KernelDispatch.Runnable)
            data.Add(path);
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void BothBytePathsGiveTheScaledDotsThenTheBatchNorm(KernelPath path)
    {
        var random = new Random(13);
        var shapes = new[]
        {
            (Conv2dShape.Square(1, 6, 16, 20, 3, 1, 1), true),
            (Conv2dShape.Square(1, 7, 12, 9, 3, 2, 1), true),
            (Conv2dShape.Square(1, 5, 8, 17, 1, 1, 0), true),
            (Conv2dShape.Square(1, 4, 160, 18, 3, 1, 1), false),
            (Conv2dShape.Square(1, 5, 3, 7, 3, 1, 1), false),
        };
        foreach (var (image, implicitConv) in shapes)
        {
            Assert.Equal(implicitConv, ByteConv2d.Prefers(image));
            int ka = 2 + random.Next(3), kw = 1 + random.Next(4), n = image.Filters, k = image.KernelH * image.KernelW * image.Channels;
            var weightCodes = new byte[n * k];
            for (int i = 0; i < weightCodes.Length; i++)
                weightCodes[i] = (byte)random.Next(1 << kw);
            var scale = Floats(random, n, 0.5f, 1.5f);
            var shift = Floats(random, n, -0.5f, 0.5f);
            foreach (bool norm in new[] { true, false })
            {
                var weights = new BitSerialWeights(BitSerialPackedB.PackCodes(weightCodes, n, k, kw), ka, image, norm ? scale : null, norm ? shift : null);
                const int count = 2;
                int inputLength = image.Height * image.Width * image.Channels, outputLength = image.OutputHeight * image.OutputWidth * n;
                var input = Floats(random, count * inputLength, -0.3f, 1.3f);
                var output = new float[count * outputLength];
                PackedOps.BitSerialConv(input, count, weights, new float[PackedOps.BitSerialColumnsLength(weights)],
                    new ulong[PackedOps.BitSerialPlanesLength(weights, 1)], output, path, threads: 2);
                float dotScale = 1f / (((1 << ka) - 1) * ((1 << kw) - 1));
                for (int s = 0; s < count; s++)
                {
                    var dots = Dots(image, input.AsSpan(s * inputLength, inputLength), ka, weightCodes, kw);
                    for (int i = 0; i < outputLength; i++)
                    {
                        float value = dotScale * dots[i] + 0f;
                        if (norm)
                            value = value * scale[i % n] + shift[i % n];
                        Assert.Equal(value, output[s * outputLength + i]);
                    }
                }
            }
        }
    }

    /// <summary>Integer dots of the quantized image with the weight levels, position by position (zero padding adds nothing).</summary>
    private static int[] Dots(Conv2dShape s, ReadOnlySpan<float> image, int ka, byte[] weightCodes, int kw)
    {
        int n = s.Filters, k = s.KernelH * s.KernelW * s.Channels, levelOffset = (1 << kw) - 1;
        var dots = new int[s.OutputHeight * s.OutputWidth * n];
        for (int oh = 0; oh < s.OutputHeight; oh++)
            for (int ow = 0; ow < s.OutputWidth; ow++)
                for (int f = 0; f < n; f++)
                {
                    int sum = 0;
                    for (int kh = 0; kh < s.KernelH; kh++)
                        for (int kx = 0; kx < s.KernelW; kx++)
                        {
                            int ih = oh * s.StrideH - s.PadH + kh, iw = ow * s.StrideW - s.PadW + kx;
                            if (ih < 0 || ih >= s.Height || iw < 0 || iw >= s.Width)
                                continue;
                            for (int c = 0; c < s.Channels; c++)
                            {
                                int code = BitPlanes.QuantizeActivation(image[(ih * s.Width + iw) * s.Channels + c], ka);
                                int level = 2 * weightCodes[f * k + (kh * s.KernelW + kx) * s.Channels + c] - levelOffset;
                                sum += code * level;
                            }
                        }
                    dots[(oh * s.OutputWidth + ow) * n + f] = sum;
                }
        return dots;
    }

    private static float[] Floats(Random random, int length, float low, float high)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = low + (high - low) * random.NextSingle();
        return values;
    }
}
