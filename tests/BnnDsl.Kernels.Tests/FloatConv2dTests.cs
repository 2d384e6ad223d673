// Float convolution (im2col + SGEMM and the direct 1x1 path), im2col and its adjoint col2im, against the references.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class FloatConv2dTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    private static readonly int[] ChannelCounts = [1, 3, 37, 64, 100];

    /// <summary>Kernels, strides and paddings that put windows across every image border, on odd image sizes.</summary>
    private static IEnumerable<Conv2dShape> Shapes(int channels, bool small)
    {
        yield return new Conv2dShape(2, 7, 6, channels, 5, 3, 3, 1, 1, 1, 1);
        yield return new Conv2dShape(1, 9, 8, channels, 3, 3, 2, 2, 3, 2, 0);
        yield return new Conv2dShape(2, 5, 5, channels, 17, 1, 1, 1, 1, 0, 0);
        if (small)
            yield break;
        yield return new Conv2dShape(1, 11, 10, channels, 7, 5, 5, 2, 2, 2, 2);
        yield return new Conv2dShape(2, 6, 7, channels, 4, 1, 1, 2, 2, 0, 0);
        yield return Conv2dShape.Square(1, 4, channels, 3, 4, 3, 3);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ForwardMatchesReference(KernelPath path)
    {
        var random = new Random(101);
        bool small = !KernelDispatch.IsHardwareAccelerated(path);
        foreach (int channels in ChannelCounts)
            foreach (var shape in Shapes(channels, small))
                foreach (bool withBias in new[] { false, true })
                {
                    var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * channels);
                    var weights = RandomOperands.Floats(random, shape.Filters * shape.KernelH * shape.KernelW * channels);
                    var bias = withBias ? RandomOperands.Floats(random, shape.Filters) : [];
                    var output = new float[shape.OutputPositions * shape.Filters];
                    Array.Fill(output, float.NaN);
                    var scratch = new float[FloatConv2d.ScratchLength(shape)];
                    FloatConv2d.Forward(shape, input, weights, bias, output, scratch, path, threads: 2);
                    FloatAssert.Close(FloatConv2dReference.Forward(shape, input, weights, bias), output, $"{path} {shape} bias={withBias}");
                }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ForwardRunsTheBatchInChunksWhenScratchHoldsFewerImages(KernelPath path)
    {
        var random = new Random(7);
        var shape = new Conv2dShape(5, 6, 5, 3, 4, 3, 3, 1, 2, 1, 1);
        var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
        var weights = RandomOperands.Floats(random, shape.Filters * 27);
        var bias = RandomOperands.Floats(random, shape.Filters);
        var expected = FloatConv2dReference.Forward(shape, input, weights, bias);
        int imageScratch = shape.OutputHeight * shape.OutputWidth * 27;
        foreach (int images in new[] { 1, 2, 3 })
        {
            var output = new float[expected.Length];
            FloatConv2d.Forward(shape, input, weights, bias, output, new float[images * imageScratch + 1], path);
            FloatAssert.Close(expected, output, $"{images} images per chunk");
        }
        var error = Assert.Throws<ArgumentException>(() =>
            FloatConv2d.Forward(shape, input, weights, bias, new float[expected.Length], new float[imageScratch - 1], path));
        Assert.Equal("scratch", error.ParamName);
    }

    [Fact]
    public void DirectPathNeedsNoScratch()
    {
        var shape = Conv2dShape.Square(2, 5, 37, 9, 1, 1, 0);
        Assert.Equal(0, FloatConv2d.ScratchLength(shape));
        Assert.Equal(50 * 27, FloatConv2d.ScratchLength(Conv2dShape.Square(2, 5, 3, 9, 3, 1, 1)));
    }

    [Fact]
    public void Im2ColMatchesReference()
    {
        var random = new Random(3);
        foreach (int channels in ChannelCounts)
            foreach (var shape in Shapes(channels, small: false))
            {
                var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * channels);
                var columns = new float[shape.OutputPositions * shape.KernelH * shape.KernelW * channels];
                Array.Fill(columns, float.NaN);
                FloatConv2d.Im2Col(shape, input, columns, threads: 2);
                Assert.Equal(FloatConv2dReference.Im2Col(shape, input), columns);
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Col2ImMatchesReferenceAndIsTheAdjointOfIm2Col(KernelPath path)
    {
        var random = new Random(9);
        foreach (int channels in ChannelCounts)
            foreach (var shape in Shapes(channels, small: false))
            {
                int inputLength = shape.Batch * shape.Height * shape.Width * channels;
                var columns = RandomOperands.Floats(random, shape.OutputPositions * shape.KernelH * shape.KernelW * channels);
                var input = new float[inputLength];
                Array.Fill(input, float.NaN);
                FloatConv2d.Col2Im(shape, columns, input, path, threads: 2);
                FloatAssert.Close(FloatConv2dReference.Col2Im(shape, columns), input, $"{path} {shape}");

                // <Im2Col(x), y> == <x, Col2Im(y)>
                var x = RandomOperands.Floats(random, inputLength);
                var im2col = new float[columns.Length];
                FloatConv2d.Im2Col(shape, x, im2col);
                double left = Dot(im2col, columns), right = Dot(x, input);
                Assert.True(Math.Abs(left - right) <= 1e-4 * Math.Max(1, Math.Abs(left)), $"{shape}: {left} vs {right}");
            }
    }

    [Fact]
    public void SteadyStateForwardAllocatesNothing()
    {
        var random = new Random(4);
        var shape = Conv2dShape.Square(2, 12, 16, 32, 3, 1, 1);
        var input = RandomOperands.Floats(random, 2 * 12 * 12 * 16);
        var weights = RandomOperands.Floats(random, 32 * 9 * 16);
        var bias = RandomOperands.Floats(random, 32);
        var output = new float[shape.OutputPositions * 32];
        var scratch = new float[FloatConv2d.ScratchLength(shape)];
        var columns = new float[scratch.Length];
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            FloatConv2d.Forward(shape, input, weights, bias, output, scratch, threads: 2);
            FloatConv2d.Col2Im(shape, columns, input, threads: 2);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        FloatConv2d.Forward(shape, input, weights, bias, output, scratch, threads: 2);
        FloatConv2d.Col2Im(shape, columns, input, threads: 2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ValidateNamesTheBadField()
    {
        Assert.Equal("KernelH", Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 3, 8, 1, 1, 6, 3, 1, 1, 1, 1).Validate()).ParamName);
        Assert.Equal("KernelW", Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 8, 3, 1, 1, 3, 4, 1, 1, 0, 0).Validate()).ParamName);
        Assert.Equal("StrideW", Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 8, 8, 1, 1, 3, 3, 1, 0, 0, 0).Validate()).ParamName);
        Assert.Equal("PadH", Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 8, 8, 1, 1, 3, 3, 1, 1, -1, 0).Validate()).ParamName);
        Assert.Equal("Channels", Assert.Throws<ArgumentException>(() => Conv2dShape.Square(1, 8, 0, 4, 3, 1, 1).Validate()).ParamName);
        var shape = Conv2dShape.Square(3, 9, 5, 4, 3, 2, 1);
        Assert.Equal((5, 5, 75), (shape.OutputHeight, shape.OutputWidth, shape.OutputPositions));
    }

    private static double Dot(float[] x, float[] y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += (double)x[i] * y[i];
        return sum;
    }
}
