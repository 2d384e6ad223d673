// GPU im2col (plain, and signs with a pad value) and col2im against the scalar reference: exact.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuIm2ColTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    /// <summary>Odd sizes, 1 and 3 channels, stride 2, padding, a kernel as large as the padded input, a 1x1 kernel.</summary>
    private static readonly Conv2dShape[] Shapes =
    [
        new(2, 5, 6, 3, 4, 3, 3, 1, 1, 1, 1),
        new(1, 7, 5, 1, 2, 3, 2, 2, 2, 1, 0),
        new(3, 4, 4, 5, 3, 6, 6, 1, 1, 1, 1),
        new(2, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0),
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Im2ColAndCol2ImEqualTheReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(5);
        foreach (var shape in Shapes)
        {
            var x = Values(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
            var columns = Values(random, (int)GpuIm2Col.ColumnsLength(shape));
            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var columnsBuffer = device.Accelerator.Allocate1D(columns);
            using var output = device.Allocate<float>(columns.Length);
            using var input = device.Allocate<float>(x.Length);

            GpuIm2Col.Im2Col(device, xBuffer.View, shape, output.View);
            Assert.Equal(FloatConv2dReference.Im2Col(shape, x), output.GetAsArray1D());
            GpuIm2Col.Col2Im(device, columnsBuffer.View, shape, input.View);
            Assert.Equal(FloatConv2dReference.Col2Im(shape, columns), input.GetAsArray1D());

            // sign(x) where the window reads the image, the pad value where it reads padding (cells im2col of ones marks 0)
            var inside = FloatConv2dReference.Im2Col(shape, Enumerable.Repeat(1f, x.Length).ToArray());
            var plain = FloatConv2dReference.Im2Col(shape, x);
            foreach (float pad in new[] { 1f, 0f })
            {
                GpuIm2Col.Im2Col(device, xBuffer.View, shape, output.View, sign: true, padValue: pad);
                var expected = plain.Select((v, i) => inside[i] == 0f ? pad : v >= 0f ? 1f : -1f).ToArray();
                Assert.Equal(expected, output.GetAsArray1D());
            }
        }
    }

    [Fact]
    public void ShortBuffersAreRefusedNamingTheArgument()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        var shape = Shapes[0];
        using var x = device.Allocate<float>(shape.Batch * shape.Height * shape.Width * shape.Channels);
        using var columns = device.Allocate<float>(GpuIm2Col.ColumnsLength(shape) - 1);
        var error = Assert.Throws<ArgumentException>(() => GpuIm2Col.Im2Col(device, x.View, shape, columns.View));
        Assert.Equal("columns", error.ParamName);
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = i % 7 == 0 ? 0f : random.NextSingle() * 4f - 2f;
        return values;
    }
}
