// The central equivalence test: the packed binary convolution equals a float convolution of sign(x) and sign(w)
// with the same padding, bit for bit, for every output, padding mode, path and shape.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class BinaryConv2dTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    /// <summary>(batch, height, width, channels, filters, kernelH, kernelW, strideH, strideW, padH, padW).</summary>
    private static readonly Conv2dShape[] Shapes =
    [
        // Channel counts around word boundaries, 3x3 pad 1.
        new(2, 5, 6, 1, 17, 3, 3, 1, 1, 1, 1),
        new(1, 6, 5, 3, 17, 3, 3, 1, 1, 1, 1),
        new(2, 5, 5, 37, 17, 3, 3, 1, 1, 1, 1),
        new(1, 6, 7, 64, 17, 3, 3, 1, 1, 1, 1),
        new(3, 4, 5, 100, 17, 3, 3, 1, 1, 1, 1),
        new(1, 4, 4, 512, 17, 3, 3, 1, 1, 1, 1),
        new(1, 3, 2, 512, 70, 3, 3, 2, 1, 1, 1),
        // Kernels 1, 2, 5, 7 with strides 1 and 2 and pads 0..3.
        new(1, 7, 9, 37, 17, 1, 1, 1, 1, 0, 0),
        new(2, 6, 5, 3, 17, 2, 2, 2, 1, 1, 0),
        new(1, 9, 8, 37, 17, 5, 5, 1, 2, 2, 2),
        new(1, 8, 8, 3, 17, 7, 7, 1, 1, 3, 3),
        new(2, 7, 7, 64, 17, 7, 7, 2, 2, 3, 3),
        new(1, 9, 6, 3, 17, 3, 3, 1, 1, 3, 2),
        new(1, 10, 10, 3, 17, 3, 3, 3, 3, 1, 1),
        new(1, 6, 8, 37, 17, 3, 5, 2, 1, 1, 2),
        new(2, 8, 7, 100, 17, 2, 3, 2, 2, 0, 1),
        // Outputs of 1x1, including a window that is mostly padding.
        new(2, 3, 3, 100, 17, 3, 3, 1, 1, 0, 0),
        new(1, 1, 1, 37, 17, 3, 3, 1, 1, 1, 1),
        new(1, 2, 2, 64, 70, 5, 5, 2, 2, 2, 2),
        // Filter counts 1, 64, 70.
        new(1, 5, 5, 37, 1, 3, 3, 1, 1, 1, 1),
        new(2, 6, 7, 64, 64, 3, 3, 2, 2, 1, 1),
        new(1, 5, 4, 100, 70, 3, 3, 1, 1, 2, 1),
    ];

    [Theory]
    [MemberData(nameof(Paths))]
    public void EveryOutputMatchesTheFloatConvolutionOfSigns(KernelPath path)
    {
        var random = new Random(2024);
        foreach (var shape in Shapes)
            CheckAllOutputs(random, shape, path, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void RandomShapesMatchTheFloatConvolutionOfSigns(KernelPath path)
    {
        var random = new Random(77);
        int checkedShapes = 0;
        while (checkedShapes < 40)
        {
            int kernelH = 1 + random.Next(7), kernelW = 1 + random.Next(7);
            var shape = new Conv2dShape(1 + random.Next(3), 1 + random.Next(9), 1 + random.Next(9), 1 + random.Next(140),
                1 + random.Next(40), kernelH, kernelW, 1 + random.Next(3), 1 + random.Next(3), random.Next(4), random.Next(4));
            if (shape.KernelH > shape.Height + 2 * shape.PadH || shape.KernelW > shape.Width + 2 * shape.PadW)
                continue;
            CheckAllOutputs(random, shape, path, threads: 1 + random.Next(2));
            checkedShapes++;
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ParallelIm2ColMatchesTheReference(KernelPath path)
    {
        var random = new Random(8);
        var shape = new Conv2dShape(2, 24, 23, 200, 17, 3, 3, 1, 1, 1, 1);
        Assert.True(BinaryConv2d.ScratchLength(shape) >= 1 << 15);
        CheckAllOutputs(random, shape, path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ThresholdOutputChainsIntoTheNextBinaryLayer(KernelPath path)
    {
        var random = new Random(31);
        var first = new Conv2dShape(2, 6, 5, 37, 70, 3, 3, 1, 1, 1, 1);
        var second = new Conv2dShape(2, first.OutputHeight, first.OutputWidth, 70, 19, 3, 3, 2, 2, 1, 1);
        var x = RandomOperands.Floats(random, first.Batch * first.Height * first.Width * first.Channels);
        var w1 = RandomOperands.Floats(random, first.Filters * 9 * first.Channels);
        var w2 = RandomOperands.Floats(random, second.Filters * 9 * second.Channels);
        var thresholds = new int[first.Filters];
        for (int o = 0; o < thresholds.Length; o++)
            thresholds[o] = random.Next(-20, 21);

        var hidden = new ulong[first.OutputPositions * 2];
        var firstPlan = new BinaryConv2dPlan(first, BinaryConvWeights.FromFloats(w1, first.Filters, 3, 3, first.Channels), BinaryPadding.Zero);
        BinaryConv2d.Forward(Pack(x, first), firstPlan, new ulong[BinaryConv2d.ScratchLength(first)],
            XnorOutput.Threshold(hidden, 2, thresholds), path);
        var output = new int[second.OutputPositions * second.Filters];
        var secondPlan = new BinaryConv2dPlan(second, BinaryConvWeights.FromFloats(w2, second.Filters, 3, 3, second.Channels), BinaryPadding.Zero);
        BinaryConv2d.Forward(hidden, secondPlan, new ulong[BinaryConv2d.ScratchLength(second)], XnorOutput.Int32(output, second.Filters), path);

        var hiddenSigns = new float[first.OutputPositions * first.Filters];
        var firstDots = BinaryConv2dReference.Dots(x, w1, first, BinaryPadding.Zero);
        for (int i = 0; i < hiddenSigns.Length; i++)
            hiddenSigns[i] = firstDots[i] >= thresholds[i % first.Filters] ? 1f : -1f;
        Assert.Equal(BinaryConv2dReference.Dots(hiddenSigns, w2, second, BinaryPadding.Zero), output);
    }

    [Fact]
    public void PrePackedWeightsGiveTheSameResultAsFloatWeights()
    {
        var random = new Random(4);
        var shape = new Conv2dShape(1, 5, 5, 100, 17, 3, 3, 1, 1, 1, 1);
        var w = RandomOperands.Floats(random, shape.Filters * 9 * shape.Channels);
        var fromFloats = BinaryConvWeights.FromFloats(w, shape.Filters, 3, 3, shape.Channels);
        var fromPacked = BinaryConvWeights.FromPacked(SignPackingReference.Pack(w, shape.Filters * 9, shape.Channels), shape.Filters, 3, 3, shape.Channels);
        for (int o = 0; o < shape.Filters; o++)
            for (int tap = 0; tap < 9; tap++)
            {
                Assert.Equal(fromFloats.TapSum(o, tap), fromPacked.TapSum(o, tap));
                for (int k = 0; k < 2; k++)
                    Assert.Equal(fromFloats.Packed.WordAt(o, tap * 2 + k), fromPacked.Packed.WordAt(o, tap * 2 + k));
            }
    }

    [Fact]
    public void ScratchLengthIsOneRowOfTapWordsPerOutputPosition()
    {
        var shape = new Conv2dShape(2, 7, 5, 65, 3, 3, 2, 2, 1, 1, 0);
        Assert.Equal(2 * 4 * 4 * (3 * 2 * 2), BinaryConv2d.ScratchLength(shape));
        Assert.Equal(2 * 7 * 5 * 2, BinaryConv2d.InputLength(shape));
    }

    [Fact]
    public void BadShapesAreRejectedNamingTheField()
    {
        Assert.Contains("Channels", Assert.Throws<ArgumentException>(() => Conv2dShape.Square(1, 8, 0, 4, 3, 1, 1).Validate()).Message);
        Assert.Contains("StrideW", Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 8, 8, 3, 4, 3, 3, 1, 0, 1, 1).Validate()).Message);
        Assert.Contains("PadH", Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 8, 8, 3, 4, 3, 3, 1, 1, -1, 1).Validate()).Message);
        var tooLarge = Assert.Throws<ArgumentException>(() => new Conv2dShape(1, 4, 8, 3, 4, 7, 3, 1, 1, 1, 1).Validate());
        Assert.Equal("KernelH", tooLarge.ParamName);
        Assert.Contains("padded input height", tooLarge.Message);
        Assert.Equal("Batch", Assert.Throws<ArgumentException>(() => Conv2dShape.Square(40000, 256, 256, 4, 3, 1, 1).Validate()).ParamName);
        Assert.Equal("KernelW", Assert.Throws<ArgumentException>(() => BinaryConv2d.ScratchLength(new Conv2dShape(1, 8, 2, 3, 4, 3, 5, 1, 1, 1, 1))).ParamName);
    }

    [Fact]
    public void MismatchedWeightsAndShortBuffersAreRejectedNamingTheArgument()
    {
        var shape = Conv2dShape.Square(1, 6, 37, 5, 3, 1, 1);
        var weights = BinaryConvWeights.FromFloats(new float[5 * 9 * 37], 5, 3, 3, 37);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => new BinaryConv2dPlan(shape with { Channels = 38 }, weights)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => BinaryConvWeights.FromFloats(new float[10], 5, 3, 3, 37)).ParamName);
        var tail = new ulong[5 * 9];
        tail[7] = 1UL << 40;
        Assert.Equal("packed", Assert.Throws<ArgumentException>(() => BinaryConvWeights.FromPacked(tail, 5, 3, 3, 37)).ParamName);

        var plan = new BinaryConv2dPlan(shape, weights, BinaryPadding.Zero);
        var output = new int[36 * 5];
        Assert.Equal("input", Assert.Throws<ArgumentException>(() =>
            BinaryConv2d.Forward(new ulong[35], plan, new ulong[BinaryConv2d.ScratchLength(shape)], XnorOutput.Int32(output, 5))).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() =>
            BinaryConv2d.Forward(new ulong[36], plan, new ulong[10], XnorOutput.Int32(output, 5))).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() =>
            BinaryConv2d.Forward(new ulong[36], plan, new ulong[BinaryConv2d.ScratchLength(shape)], XnorOutput.Int32(new int[20], 5))).ParamName);
    }

    [Fact]
    public void SteadyStateForwardAllocatesNothing()
    {
        var random = new Random(6);
        var shape = new Conv2dShape(3, 24, 23, 130, 70, 3, 3, 1, 1, 1, 1);
        var input = Pack(RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels), shape);
        var weights = BinaryConvWeights.FromFloats(RandomOperands.Floats(random, shape.Filters * 9 * shape.Channels), shape.Filters, 3, 3, shape.Channels);
        var plan = new BinaryConv2dPlan(shape, weights, BinaryPadding.Zero);
        var scratch = new ulong[BinaryConv2d.ScratchLength(shape)];
        var ints = new int[shape.OutputPositions * shape.Filters];
        var floats = new float[ints.Length];
        var bits = new ulong[shape.OutputPositions * 2];
        var scale = RandomOperands.Floats(random, shape.Filters);
        var bias = RandomOperands.Floats(random, shape.Filters);
        var thresholds = new int[shape.Filters];
        void RunAll()
        {
            BinaryConv2d.Forward(input, plan, scratch, XnorOutput.Int32(ints, shape.Filters), threads: 2);
            BinaryConv2d.Forward(input, plan, scratch, XnorOutput.ScaleBias(floats, shape.Filters, scale, bias), threads: 2);
            BinaryConv2d.Forward(input, plan, scratch, XnorOutput.Threshold(bits, 2, thresholds), threads: 2);
        }
        RunAll();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
            RunAll();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static ulong[] Pack(float[] x, Conv2dShape shape)
    {
        int pixels = shape.Batch * shape.Height * shape.Width;
        var packed = new ulong[pixels * SignPacking.WordsFor(shape.Channels)];
        SignPacking.Pack(x, pixels, shape.Channels, packed);
        return packed;
    }

    private static void CheckAllOutputs(Random random, Conv2dShape shape, KernelPath path, int threads)
    {
        int n = shape.Filters, m = shape.OutputPositions, kBits = shape.KernelH * shape.KernelW * shape.Channels;
        var x = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
        var w = RandomOperands.Floats(random, n * shape.KernelH * shape.KernelW * shape.Channels);
        var input = Pack(x, shape);
        var weights = BinaryConvWeights.FromFloats(w, n, shape.KernelH, shape.KernelW, shape.Channels);
        var scratch = new ulong[BinaryConv2d.ScratchLength(shape)];
        var scale = RandomOperands.Floats(random, n);
        var bias = RandomOperands.Floats(random, n);
        var thresholds = new int[n];
        for (int o = 0; o < n; o++)
            thresholds[o] = random.Next(-kBits / 4 - 1, kBits / 4 + 2);
        int outWords = (n + 63) / 64;

        foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
        {
            string what = $"{shape} padding {padding} path {path}";
            var expected = BinaryConv2dReference.Dots(x, w, shape, padding);
            var plan = new BinaryConv2dPlan(shape, weights, padding);

            Array.Fill(scratch, 0x5555_5555_5555_5555UL);
            var ints = new int[m * n];
            Array.Fill(ints, int.MinValue);
            BinaryConv2d.Forward(input, plan, scratch, XnorOutput.Int32(ints, n), path, threads);
            AssertEqual(expected, ints, what);

            var floats = new float[m * n];
            BinaryConv2d.Forward(input, plan, scratch, XnorOutput.ScaleBias(floats, n, scale, bias), path, threads);
            AssertEqual(BinaryConv2dReference.ScaleBias(expected, shape, scale, bias), floats, what);

            var bits = new ulong[m * outWords];
            Array.Fill(bits, ulong.MaxValue);
            BinaryConv2d.Forward(input, plan, scratch, XnorOutput.Threshold(bits, outWords, thresholds), path, threads);
            AssertEqual(BinaryConv2dReference.Threshold(expected, shape, thresholds), bits, what);
        }
    }

    private static void AssertEqual<T>(T[] expected, T[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!EqualityComparer<T>.Default.Equals(expected[i], actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }
}
