// Float max / average / global average pooling against the references, windows across every border.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class FloatPoolingTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    private static IEnumerable<Pool2dShape> Shapes()
    {
        foreach (int channels in new[] { 1, 3, 37, 64, 100 })
        {
            yield return Pool2dShape.Square(2, 8, channels, 2, 2, 0);
            yield return Pool2dShape.Square(1, 7, channels, 3, 2, 1);
            yield return new Pool2dShape(2, 9, 6, channels, 3, 2, 1, 2, 2, 1);
            yield return new Pool2dShape(1, 5, 5, channels, 5, 5, 3, 3, 2, 2);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MaxAndAveragePoolingMatchReference(KernelPath path)
    {
        var random = new Random(61);
        foreach (var shape in Shapes())
        {
            var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
            var output = new float[shape.Batch * shape.OutputHeight * shape.OutputWidth * shape.Channels];
            Array.Fill(output, float.NaN);
            FloatPooling.MaxPool(shape, input, output, path, threads: 2);
            Assert.Equal(FloatPoolingReference.MaxPool(shape, input), output);
            Array.Fill(output, float.NaN);
            FloatPooling.AvgPool(shape, input, output, path, threads: 2);
            FloatAssert.Close(FloatPoolingReference.AvgPool(shape, input), output, $"{path} {shape}");
        }
    }

    [Fact]
    public void AveragePoolingExcludesPaddingFromTheDivisor()
    {
        // 2x2 image, 3x3 window, padding 1: the corner window holds the 4 real cells only.
        var shape = Pool2dShape.Square(1, 2, 1, 3, 1, 1);
        var output = new float[4];
        FloatPooling.AvgPool(shape, new float[] { 1, 2, 3, 6 }, output);
        Assert.Equal(new float[] { 3, 3, 3, 3 }, output);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void GlobalAveragePoolingMatchesReference(KernelPath path)
    {
        var random = new Random(67);
        foreach (int channels in new[] { 1, 3, 37, 64, 100 })
            foreach (var (height, width) in new[] { (1, 1), (7, 7), (4, 9) })
            {
                var input = RandomOperands.Floats(random, 3 * height * width * channels);
                var output = new float[3 * channels];
                FloatPooling.GlobalAvgPool(3, height, width, channels, input, output, path, threads: 2);
                FloatAssert.Close(FloatPoolingReference.GlobalAvgPool(3, height, width, channels, input), output, $"{path} {height}x{width}x{channels}");
            }
    }

    [Fact]
    public void SteadyStatePoolingAllocatesNothing()
    {
        var shape = Pool2dShape.Square(2, 16, 64, 3, 2, 1);
        var input = new float[2 * 16 * 16 * 64];
        var output = new float[2 * shape.OutputHeight * shape.OutputWidth * 64];
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            FloatPooling.MaxPool(shape, input, output, threads: 2);
            FloatPooling.AvgPool(shape, input, output, threads: 2);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        FloatPooling.MaxPool(shape, input, output, threads: 2);
        FloatPooling.AvgPool(shape, input, output, threads: 2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ValidateNamesTheBadField()
    {
        Assert.Equal("PadH", Assert.Throws<ArgumentException>(() => Pool2dShape.Square(1, 8, 4, 2, 2, 2).Validate()).ParamName);
        Assert.Equal("KernelW", Assert.Throws<ArgumentException>(() => new Pool2dShape(1, 8, 3, 4, 2, 5, 1, 1, 0, 0).Validate()).ParamName);
        Assert.Equal("StrideH", Assert.Throws<ArgumentException>(() => new Pool2dShape(1, 8, 8, 4, 2, 2, 0, 1, 0, 0).Validate()).ParamName);
        var output = new float[4];
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => FloatPooling.MaxPool(Pool2dShape.Square(1, 4, 1, 2, 2, 0), new float[15], output)).ParamName);
    }
}
