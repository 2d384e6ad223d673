// Byte activation codes and the byte im2col against the float quantizer and the float im2col.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class ByteIm2ColTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void CodesMatchTheScalarQuantizerAtEveryLengthAndEdge(KernelPath path)
    {
        var random = new Random(3);
        var edges = new[] { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -1f, -0f, 0f, 1f, 2f, 0.5f, 1f / 6f, 1f / 30f };
        for (int bits = 2; bits <= 8; bits++)
            for (int length = 0; length <= 70; length++)
            {
                var x = new float[length];
                for (int i = 0; i < length; i++)
                    x[i] = random.Next(4) == 0 ? edges[random.Next(edges.Length)] : random.NextSingle() * 1.6f - 0.3f;
                var codes = Enumerable.Repeat((byte)0xAB, length + 1).ToArray();
                ActivationCodes.Quantize(x, bits, codes.AsSpan(0, length), path);
                for (int i = 0; i < length; i++)
                    Assert.Equal(BitSerialGemmReference.QuantizeActivation(x[i], bits), codes[i]);
                Assert.Equal(0xAB, codes[length]);
            }
        Assert.Equal("bits", Assert.Throws<ArgumentOutOfRangeException>(() => ActivationCodes.Quantize(new float[1], 9, new byte[1], path)).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => ActivationCodes.Quantize(new float[2], 2, new byte[1], path)).ParamName);
    }

    [Fact]
    public void ColumnsAreTheQuantizedFloatColumnsWithCodeZeroInPadding()
    {
        var random = new Random(11);
        var shapes = new[]
        {
            Conv2dShape.Square(2, 5, 3, 4, 3, 1, 1), Conv2dShape.Square(1, 8, 64, 8, 3, 2, 1), Conv2dShape.Square(2, 7, 70, 4, 1, 2, 0),
            Conv2dShape.Square(1, 6, 5, 4, 3, 1, 2), new Conv2dShape(1, 4, 9, 3, 2, 2, 3, 1, 2, 0, 1), Conv2dShape.Square(1, 3, 1, 1, 3, 1, 0),
        };
        foreach (var shape in shapes)
        {
            int inputLength = shape.Batch * shape.Height * shape.Width * shape.Channels;
            var x = new float[inputLength];
            for (int i = 0; i < inputLength; i++)
                x[i] = random.NextSingle() * 1.4f - 0.2f;
            var floatColumns = new float[ByteIm2Col.Length(shape)];
            FloatConv2d.Im2Col(shape, x, floatColumns);
            var codes = new byte[inputLength];
            ActivationCodes.Quantize(x, 3, codes);
            var columns = Enumerable.Repeat((byte)0xFF, (int)ByteIm2Col.Length(shape)).ToArray();
            ByteIm2Col.Forward(shape, codes, columns, threads: 2);
            for (int i = 0; i < columns.Length; i++)
                Assert.Equal(BitSerialGemmReference.QuantizeActivation(floatColumns[i], 3), columns[i]);
        }
        Assert.Equal("columns", Assert.Throws<ArgumentException>(
            () => ByteIm2Col.Forward(shapes[0], new byte[2 * 5 * 5 * 3], new byte[10])).ParamName);
    }
}
