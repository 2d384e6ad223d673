// Byte convolution on padded codes against the integer reference and against byte im2col + byte GEMM, with tails in
// filters, positions and channels, int16 chunks that end inside a kernel row, and the BatchNorm output stage.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class ByteConv2dTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    private static readonly Conv2dShape[] Shapes =
    [
        Conv2dShape.Square(1, 5, 4, 3, 3, 1, 1), Conv2dShape.Square(2, 7, 8, 17, 3, 1, 1), Conv2dShape.Square(1, 8, 16, 16, 3, 2, 1),
        Conv2dShape.Square(1, 6, 12, 33, 1, 1, 0), Conv2dShape.Square(2, 5, 4, 5, 1, 2, 0), Conv2dShape.Square(1, 4, 2, 9, 2, 1, 2),
        new Conv2dShape(1, 6, 9, 4, 7, 3, 2, 2, 1, 1, 0), Conv2dShape.Square(1, 3, 64, 20, 3, 1, 1), Conv2dShape.Square(1, 9, 12, 40, 3, 1, 1),
        Conv2dShape.Square(1, 1, 4, 2, 1, 1, 0), Conv2dShape.Square(1, 2, 20, 6, 3, 1, 1),
    ];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceAndIm2ColGemmForEveryPairOfWidths(KernelPath path)
    {
        var random = new Random(17);
        foreach (var shape in Shapes)
            for (int ka = 2; ka <= 4; ka++)
                for (int kw = 1; kw <= 4; kw++)
                    Check(random, shape, ka, kw, path, threads: 1 + random.Next(2));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int16ChunksMayEndInsideAKernelRow(KernelPath path)
    {
        // 72 groups of 4 codes per chunk at 4 x 4 bits: kernel rows of 3 x 64 codes (48 groups) and 3 x 100 (75 groups).
        var random = new Random(23);
        foreach (var shape in new[] { Conv2dShape.Square(1, 4, 64, 18, 3, 1, 1), Conv2dShape.Square(1, 3, 100, 5, 3, 1, 1), Conv2dShape.Square(1, 2, 296, 3, 1, 1, 0) })
            Check(random, shape, 4, 4, path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LargestCodesGiveTheLargestDotsOfBothSigns(KernelPath path)
    {
        foreach (var (ka, kw) in new[] { (2, 2), (4, 4), (4, 1), (2, 4) })
        {
            var shape = Conv2dShape.Square(1, 3, 128, 18, 3, 1, 0);
            int k = 9 * shape.Channels, amax = (1 << ka) - 1, wmax = (1 << kw) - 1;
            var padded = Enumerable.Repeat((byte)amax, (int)ByteConv2d.PaddedLength(shape)).ToArray();
            var codes = new byte[shape.Filters * k];
            for (int f = 0; f < shape.Filters; f++)
                codes.AsSpan(f * k, k).Fill(f % 2 == 0 ? (byte)wmax : (byte)0);
            var c = new int[shape.Filters];
            ByteConv2d.Forward(shape, padded, ka, BytePackedB.PackCodes(codes, shape.Filters, k, kw), XnorOutput.Int32(c, shape.Filters), path: path, threads: 1);
            for (int f = 0; f < shape.Filters; f++)
                Assert.Equal((f % 2 == 0 ? 1 : -1) * k * amax * wmax, c[f]);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ScaleBiasThenNormIsTheTwoRoundedAffineSteps(KernelPath path)
    {
        var random = new Random(29);
        foreach (var shape in new[] { Conv2dShape.Square(1, 6, 8, 37, 3, 1, 1), Conv2dShape.Square(2, 4, 12, 16, 3, 2, 1), Conv2dShape.Square(1, 3, 4, 5, 1, 1, 0) })
        {
            int ka = 2 + random.Next(3), kw = 1 + random.Next(4), n = shape.Filters, k = shape.KernelH * shape.KernelW * shape.Channels;
            var x = RandomOperands.UniformFloats(random, shape.Batch * shape.Height * shape.Width * shape.Channels, 1.2f);
            var weightCodes = RandomOperands.Codes(random, n * k, kw);
            var codes = new byte[x.Length];
            ActivationCodes.Quantize(x, ka, codes);
            var expected = ByteConv2dReference.Forward(shape, codes, ByteGemmReference.Levels(weightCodes, kw));
            var padded = new byte[ByteConv2d.PaddedLength(shape)];
            ByteConv2d.QuantizePadded(shape, x, ka, padded, path);
            var b = BytePackedB.PackCodes(weightCodes, n, k, kw);
            var scale = RandomOperands.UniformFloats(random, n, 1.2f);
            var bias = RandomOperands.UniformFloats(random, n, 1.2f);
            var normScale = RandomOperands.UniformFloats(random, n, 1.2f);
            var normShift = RandomOperands.UniformFloats(random, n, 1.2f);
            var plain = new float[shape.OutputPositions * n];
            var normed = new float[shape.OutputPositions * n];
            ByteConv2d.Forward(shape, padded, ka, b, XnorOutput.ScaleBias(plain, n, scale, bias), path: path, threads: 2);
            ByteConv2d.Forward(shape, padded, ka, b, XnorOutput.ScaleBias(normed, n, scale, bias), normScale, normShift, path, threads: 2);
            for (int i = 0; i < expected.Length; i++)
            {
                int j = i % n;
                float value = scale[j] * expected[i] + bias[j];
                Assert.Equal(value, plain[i]);
                Assert.Equal(value * normScale[j] + normShift[j], normed[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PaddedCodesAreTheCodesWithZeroBorders(KernelPath path)
    {
        var random = new Random(31);
        foreach (var shape in Shapes)
        {
            var x = RandomOperands.UniformFloats(random, shape.Batch * shape.Height * shape.Width * shape.Channels, 1.2f);
            var codes = new byte[x.Length];
            ActivationCodes.Quantize(x, 3, codes);
            var padded = Enumerable.Repeat((byte)0xAB, (int)ByteConv2d.PaddedLength(shape) + 1).ToArray();
            ByteConv2d.QuantizePadded(shape, x, 3, padded.AsSpan(0, padded.Length - 1), path, threads: 2);
            Assert.Equal(Pad(shape, codes), padded[..^1]);
            Assert.Equal(0xAB, padded[^1]);
        }
    }

    [Fact]
    public void PrefersShapesWhoseWeightPanelFitsBesideTheRows()
    {
        Assert.True(ByteConv2d.Prefers(Conv2dShape.Square(1, 32, 64, 64, 3, 1, 1)));
        Assert.True(ByteConv2d.Prefers(Conv2dShape.Square(1, 16, 128, 128, 3, 1, 1)));
        Assert.False(ByteConv2d.Prefers(Conv2dShape.Square(1, 8, 256, 256, 3, 1, 1)));
        Assert.True(ByteConv2d.Prefers(Conv2dShape.Square(1, 8, 256, 256, 1, 1, 0)));
        Assert.False(ByteConv2d.Prefers(Conv2dShape.Square(1, 8, 3, 16, 3, 1, 1)));
    }

    [Fact]
    public void BadArgumentsAreRejectedByName()
    {
        var shape = Conv2dShape.Square(1, 4, 4, 3, 3, 1, 1);
        var b = BytePackedB.PackCodes(new byte[3 * 36], 3, 36, 2);
        var padded = new byte[ByteConv2d.PaddedLength(shape)];
        var c = new int[16 * 3];
        var floats = new float[16 * 3];
        Assert.False(ByteConv2d.Supports(Conv2dShape.Square(1, 4, 3, 3, 3, 1, 1)));
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(Conv2dShape.Square(1, 4, 3, 3, 3, 1, 1), padded, 2,
            BytePackedB.PackCodes(new byte[3 * 27], 3, 27, 2), XnorOutput.Int32(c, 3))).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape with { Filters = 4 }, padded, 2, b, XnorOutput.Int32(new int[64], 4))).ParamName);
        Assert.Equal("activationBits", Assert.Throws<ArgumentOutOfRangeException>(() => ByteConv2d.Forward(shape, padded, 5, b, XnorOutput.Int32(c, 3))).ParamName);
        Assert.Equal("padded", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape, padded.AsSpan(1), 2, b, XnorOutput.Int32(c, 3))).ParamName);
        padded[padded.Length - 7] = 4;
        Assert.Equal("padded", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape, padded, 2, b, XnorOutput.Int32(c, 3))).ParamName);
        padded[padded.Length - 7] = 0;
        Assert.Equal("normScale", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape, padded, 2, b, XnorOutput.Int32(c, 3), new float[3], new float[3])).ParamName);
        Assert.Equal("normShift", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape, padded, 2, b,
            XnorOutput.ScaleBias(floats, 3, new float[3], new float[3]), new float[3], new float[2])).ParamName);
        Assert.Equal("padded", Assert.Throws<ArgumentException>(() => ByteConv2d.QuantizePadded(shape, new float[64], 2, new byte[10])).ParamName);
        Assert.Equal("bits", Assert.Throws<ArgumentOutOfRangeException>(() => ByteConv2d.QuantizePadded(shape, new float[64], 1, padded)).ParamName);
    }

    private static void Check(Random random, Conv2dShape shape, int ka, int kw, KernelPath path, int threads)
    {
        int n = shape.Filters, k = shape.KernelH * shape.KernelW * shape.Channels;
        var codes = RandomOperands.Codes(random, shape.Batch * shape.Height * shape.Width * shape.Channels, ka);
        var weightCodes = RandomOperands.Codes(random, n * k, kw);
        var expected = ByteConv2dReference.Forward(shape, codes, ByteGemmReference.Levels(weightCodes, kw));
        var b = BytePackedB.PackCodes(weightCodes, n, k, kw);
        int ldc = n + 1, m = shape.OutputPositions;
        var c = Enumerable.Repeat(int.MinValue, m * ldc).ToArray();
        ByteConv2d.Forward(shape, Pad(shape, codes), ka, b, XnorOutput.Int32(c, ldc), path: path, threads: threads);
        var columns = new byte[ByteIm2Col.Length(shape)];
        ByteIm2Col.Forward(shape, codes, columns);
        var gemm = new int[m * n];
        ByteGemm.Multiply(columns, m, k, ka, b, XnorOutput.Int32(gemm, n), path, threads);
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.True(expected[r * n + j] == c[r * ldc + j], $"{shape} {ka}x{kw} bits: D[{r},{j}] = {c[r * ldc + j]}, expected {expected[r * n + j]}");
                Assert.Equal(gemm[r * n + j], c[r * ldc + j]);
            }
            Assert.Equal(int.MinValue, c[r * ldc + n]);
        }
    }

    /// <summary>The padded layout of <see cref="ByteConv2d"/> built position by position.</summary>
    private static byte[] Pad(Conv2dShape shape, byte[] codes)
    {
        int height = shape.Height + 2 * shape.PadH, width = shape.Width + 2 * shape.PadW, c = shape.Channels;
        var padded = new byte[ByteConv2d.PaddedLength(shape)];
        for (int b = 0; b < shape.Batch; b++)
            for (int h = 0; h < shape.Height; h++)
                for (int w = 0; w < shape.Width; w++)
                    codes.AsSpan(((b * shape.Height + h) * shape.Width + w) * c, c)
                        .CopyTo(padded.AsSpan(((b * height + h + shape.PadH) * width + w + shape.PadW) * c));
        return padded;
    }
}
