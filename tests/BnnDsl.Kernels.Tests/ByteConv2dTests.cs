// The in-place (implicit im2col) byte convolution against the byte im2col + reference GEMM, with padding, strides and batches.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class ByteConv2dTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void DotsEqualTheGemmOnTheIm2ColMatrix(KernelPath path)
    {
        var random = new Random(19);
        var shapes = new[]
        {
            Conv2dShape.Square(2, 5, 4, 3, 3, 1, 1), Conv2dShape.Square(1, 8, 64, 17, 3, 2, 1), Conv2dShape.Square(2, 7, 68, 16, 1, 2, 0),
            Conv2dShape.Square(1, 6, 8, 33, 3, 1, 2), new Conv2dShape(1, 4, 9, 12, 5, 2, 3, 1, 2, 0, 1), Conv2dShape.Square(3, 4, 4, 1, 3, 1, 1),
            Conv2dShape.Square(1, 4, 128, 40, 3, 1, 1),
        };
        foreach (var shape in shapes)
            foreach (var (ka, kw) in new[] { (2, 2), (4, 4), (3, 1) })
            {
                var codes = new byte[shape.Batch * shape.Height * shape.Width * shape.Channels];
                for (int i = 0; i < codes.Length; i++)
                    codes[i] = (byte)random.Next(1 << ka);
                int k = shape.KernelH * shape.KernelW * shape.Channels, n = shape.Filters, m = shape.OutputPositions;
                var weightCodes = new byte[n * k];
                for (int i = 0; i < weightCodes.Length; i++)
                    weightCodes[i] = (byte)random.Next(1 << kw);
                var columns = new byte[ByteIm2Col.Length(shape)];
                ByteIm2Col.Forward(shape, codes, columns);
                var expected = ByteGemmReference.Multiply(columns, m, k, ByteGemmReference.Levels(weightCodes, kw), n, k);
                var c = new int[m * n];
                ByteConv2d.Forward(shape, codes, ka, BytePackedB.PackCodes(weightCodes, n, k, kw), XnorOutput.Int32(c, n), path, threads: 2);
                Assert.Equal(expected, c);
            }
    }

    [Fact]
    public void LargestCodesWithPaddingCountOnlyTheTapsInside()
    {
        // 4 x 4 bits at K = 9 * 512: every group of 72 is at the int16 bound; border positions lose their padded taps.
        var shape = Conv2dShape.Square(1, 4, 512, 16, 3, 1, 1);
        var codes = Enumerable.Repeat((byte)15, 4 * 4 * 512).ToArray();
        int k = 9 * 512;
        var weights = BytePackedB.PackCodes(new byte[16 * k], 16, k, 4);
        var c = new int[16 * 16];
        ByteConv2d.Forward(shape, codes, 4, weights, XnorOutput.Int32(c, 16));
        for (int p = 0; p < 16; p++)
        {
            int oh = p / 4, ow = p % 4;
            int rowsInside = 3 - (oh == 0 ? 1 : 0) - (oh == 3 ? 1 : 0), colsInside = 3 - (ow == 0 ? 1 : 0) - (ow == 3 ? 1 : 0);
            for (int f = 0; f < 16; f++)
                Assert.Equal(-rowsInside * colsInside * 512 * 15 * 15, c[p * 16 + f]);
        }
    }

    [Fact]
    public void BadArgumentsAreRejectedByName()
    {
        var shape = Conv2dShape.Square(1, 3, 4, 2, 3, 1, 1);
        var weights = BytePackedB.PackCodes(new byte[2 * 36], 2, 36, 2);
        var c = new int[9 * 2];
        Assert.Equal("shape", Assert.Throws<ArgumentException>(
            () => ByteConv2d.Forward(shape with { Channels = 3 }, new byte[27], 2, BytePackedB.PackCodes(new byte[2 * 27], 2, 27, 2), XnorOutput.Int32(c, 2))).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(
            () => ByteConv2d.Forward(shape with { Filters = 3 }, new byte[36], 2, weights, XnorOutput.Int32(new int[27], 3))).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape, new byte[35], 2, weights, XnorOutput.Int32(c, 2))).ParamName);
        var tooLarge = new byte[36];
        tooLarge[35] = 4;
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => ByteConv2d.Forward(shape, tooLarge, 2, weights, XnorOutput.Int32(c, 2))).ParamName);
        Assert.Equal("activationBits", Assert.Throws<ArgumentOutOfRangeException>(
            () => ByteConv2d.Forward(shape, new byte[36], 5, weights, XnorOutput.Int32(c, 2))).ParamName);
    }
}
