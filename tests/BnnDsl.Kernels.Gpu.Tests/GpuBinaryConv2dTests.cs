// The GPU binary convolution (implicit im2col; int32 and threshold outputs, both paddings) against BinaryConv2dReference.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuBinaryConv2dTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    // Channel counts around word boundaries, odd sizes, strides 1 and 2, pads 0 and 1, kernels 1, 2 and 3, K longer
    // than a tile's Depth, filters past one output word and not multiples of any tile.
    private static readonly Conv2dShape[] Shapes =
    [
        Conv2dShape.Square(1, 3, 1, 1, 3, 1, 1),
        new(2, 5, 7, 65, 3, 3, 3, 1, 1, 1, 1),
        new(2, 6, 5, 64, 70, 3, 3, 2, 2, 1, 1),
        Conv2dShape.Square(1, 7, 130, 5, 3, 2, 0),
        new(2, 4, 5, 3, 9, 1, 1, 1, 1, 0, 0),
        Conv2dShape.Square(1, 5, 17, 66, 2, 2, 1),
        new(1, 9, 6, 200, 4, 3, 3, 1, 2, 1, 0),
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Tile32x32MatchesReferenceWithBothPaddings(GpuDeviceKind kind) => CheckInt32<Tile32x32>(kind, 21, Shapes);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Tile64x64MatchesReference(GpuDeviceKind kind) => CheckInt32<Tile64x64>(kind, 22, Shapes[1..4]);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Tile128x64MatchesReference(GpuDeviceKind kind) => CheckInt32<Tile128x64>(kind, 23, Shapes[2..3]);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ThresholdBitsMatchReferenceWithBothPaddings(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(24);
        foreach (var shape in Shapes)
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                var (input, weights, packedInput, packedWeights) = Operands(random, shape);
                int k = shape.KernelH * shape.KernelW * shape.Channels;
                var threshold = new int[shape.Filters];
                for (int o = 0; o < shape.Filters; o++)
                    threshold[o] = random.Next(-k / 4, k / 4 + 1);
                var expected = BinaryConv2dReference.Threshold(BinaryConv2dReference.Dots(input, weights, shape, padding), shape, threshold);

                using var inputBuffer = device.Accelerator.Allocate1D(packedInput);
                using var weightBuffer = device.Accelerator.Allocate1D(packedWeights);
                using var thresholdBuffer = device.Accelerator.Allocate1D(threshold);
                using var bits = device.Allocate<ulong>(expected.Length);
                bits.View.MemSet(0xFF);  // stale bits must not survive: the kernel clears its output first
                GpuBinaryConv2d.ForwardThreshold<Tile32x32>(device, inputBuffer.View, weightBuffer.View, shape, padding,
                    thresholdBuffer.View, bits.View);
                Assert.Equal(expected, bits.GetAsArray1D());
            }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ThresholdBitsChainIntoTheNextConvolution(GpuDeviceKind kind)
    {
        // Layer 1 writes packed bits on the device; layer 2 reads them as its input, with no float tensor in between.
        var device = GpuTestDevices.Get(kind);
        var random = new Random(25);
        var first = Conv2dShape.Square(2, 6, 70, 67, 3, 1, 1);
        var second = Conv2dShape.Square(2, 6, 67, 5, 3, 2, 1);
        var (input, weights1, packedInput, packedWeights1) = Operands(random, first);
        var weights2 = RandomOperands.Floats(random, second.Filters * 9 * second.Channels);
        var threshold = new int[first.Filters];
        for (int o = 0; o < first.Filters; o++)
            threshold[o] = random.Next(-20, 21);

        var dots1 = BinaryConv2dReference.Dots(input, weights1, first, BinaryPadding.Zero);
        var hidden = new float[dots1.Length];
        for (int i = 0; i < dots1.Length; i++)
            hidden[i] = dots1[i] < threshold[i % first.Filters] ? -1f : 1f;
        var expected = BinaryConv2dReference.Dots(hidden, weights2, second, BinaryPadding.Zero);

        using var inputBuffer = device.Accelerator.Allocate1D(packedInput);
        using var weightBuffer1 = device.Accelerator.Allocate1D(packedWeights1);
        using var weightBuffer2 = device.Accelerator.Allocate1D(Pack(weights2, second.Filters * 9, second.Channels));
        using var thresholdBuffer = device.Accelerator.Allocate1D(threshold);
        using var hiddenBits = device.Allocate<ulong>(GpuBinaryConv2d.InputLength(second));
        using var output = device.Allocate<int>(expected.Length);
        GpuBinaryConv2d.ForwardThreshold<Tile32x32>(device, inputBuffer.View, weightBuffer1.View, first, BinaryPadding.Zero,
            thresholdBuffer.View, hiddenBits.View);
        GpuBinaryConv2d.Forward<Tile32x32>(device, hiddenBits.View, weightBuffer2.View, second, BinaryPadding.Zero, output.View);
        Assert.Equal(expected, output.GetAsArray1D());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ShortBuffersAreRejectedNamingTheArgument(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var shape = Conv2dShape.Square(1, 4, 65, 3, 3, 1, 1);
        using var input = device.Allocate<ulong>(GpuBinaryConv2d.InputLength(shape));
        using var weights = device.Allocate<ulong>(GpuBinaryConv2d.WeightsLength(shape) - 1);
        using var output = device.Allocate<int>(shape.OutputPositions * shape.Filters);
        var error = Assert.Throws<ArgumentException>(() =>
            GpuBinaryConv2d.Forward<Tile32x32>(device, input.View, weights.View, shape, BinaryPadding.One, output.View));
        Assert.Equal("weights", error.ParamName);
        Assert.Contains("packed OHWI", error.Message);
    }

    private static void CheckInt32<TTile>(GpuDeviceKind kind, int seed, Conv2dShape[] shapes) where TTile : struct, IGemmTile
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(seed);
        foreach (var shape in shapes)
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                var (input, weights, packedInput, packedWeights) = Operands(random, shape);
                var expected = BinaryConv2dReference.Dots(input, weights, shape, padding);

                using var inputBuffer = device.Accelerator.Allocate1D(packedInput);
                using var weightBuffer = device.Accelerator.Allocate1D(packedWeights);
                using var output = device.Allocate<int>(expected.Length);
                GpuBinaryConv2d.Forward<TTile>(device, inputBuffer.View, weightBuffer.View, shape, padding, output.View);
                Assert.Equal(expected, output.GetAsArray1D());
            }
    }

    /// <summary>Random float input and weights (some exact zeros, which are +1) and their packed NHWC / OHWI words.</summary>
    private static (float[] Input, float[] Weights, ulong[] PackedInput, ulong[] PackedWeights) Operands(Random random, Conv2dShape shape)
    {
        var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
        var weights = RandomOperands.Floats(random, shape.Filters * shape.KernelH * shape.KernelW * shape.Channels);
        return (input, weights, Pack(input, input.Length / shape.Channels, shape.Channels),
            Pack(weights, weights.Length / shape.Channels, shape.Channels));
    }

    private static ulong[] Pack(float[] values, int rows, int channels)
    {
        var packed = new ulong[rows * SignPacking.WordsFor(channels)];
        SignPacking.Pack(values, rows, channels, packed);
        return packed;
    }
}
