// Max pooling on packed sign bits against the float max pool of the unpacked ±1 values.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class PackedMaxPoolTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    /// <summary>(batch, height, width, channels, kernelH, kernelW, strideH, strideW, padH, padW).</summary>
    private static readonly Pool2dShape[] Shapes =
    [
        new(2, 8, 8, 1, 2, 2, 2, 2, 0, 0),
        new(1, 7, 9, 3, 3, 3, 2, 2, 1, 1),
        new(2, 6, 5, 37, 3, 3, 1, 1, 1, 1),
        new(1, 8, 6, 64, 2, 2, 2, 2, 0, 0),
        new(3, 5, 7, 100, 3, 2, 2, 1, 1, 0),
        new(1, 4, 4, 259, 2, 2, 2, 2, 1, 1),
        new(1, 5, 5, 512, 3, 3, 2, 2, 1, 1),
        new(2, 4, 6, 300, 4, 6, 1, 1, 0, 0),
        new(1, 1, 1, 70, 3, 3, 1, 1, 1, 1),
        new(2, 9, 4, 130, 5, 3, 3, 2, 2, 1),
        new(1, 3, 4, 600, 2, 3, 1, 2, 0, 1),
    ];

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesTheFloatMaxPoolOfSigns(KernelPath path)
    {
        var random = new Random(17);
        foreach (var shape in Shapes)
        {
            // Mostly -1 bits, so that windows with a single +1 are common.
            var input = new ulong[shape.Batch * shape.Height * shape.Width * SignPacking.WordsFor(shape.Channels)];
            var rowsA = RandomOperands.PackedRows(random, shape.Batch * shape.Height * shape.Width, shape.Channels);
            var rowsB = RandomOperands.PackedRows(random, shape.Batch * shape.Height * shape.Width, shape.Channels);
            for (int i = 0; i < input.Length; i++)
                input[i] = rowsA[i] | rowsB[i];
            var output = new ulong[PackedMaxPool.OutputLength(shape)];
            Array.Fill(output, 0xAAAA_AAAA_AAAA_AAAAUL);
            PackedMaxPool.Forward(input, shape, output, path, threads: 2);
            Assert.True(PackedMaxPoolReference.Forward(input, shape).AsSpan().SequenceEqual(output), $"{shape} path {path}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LargeInputRunsInParallelAndMatchesTheReference(KernelPath path)
    {
        var random = new Random(5);
        var shape = Pool2dShape.Square(8, 32, 512, 3, 2, 1);
        var input = RandomOperands.PackedRows(random, shape.Batch * shape.Height * shape.Width, shape.Channels);
        Assert.True(PackedMaxPool.OutputLength(shape) >= 1 << 14);
        var output = new ulong[PackedMaxPool.OutputLength(shape)];
        PackedMaxPool.Forward(input, shape, output, path, threads: 2);
        Assert.Equal(PackedMaxPoolReference.Forward(input, shape), output);
    }

    [Fact]
    public void BadShapesAndShortBuffersAreRejectedNamingTheArgument()
    {
        Assert.Equal("PadH", Assert.Throws<ArgumentException>(() => Pool2dShape.Square(1, 8, 3, 2, 2, 2).Validate()).ParamName);
        Assert.Equal("KernelW", Assert.Throws<ArgumentException>(() => new Pool2dShape(1, 8, 2, 3, 2, 5, 1, 1, 0, 1).Validate()).ParamName);
        Assert.Equal("Channels", Assert.Throws<ArgumentException>(() => Pool2dShape.Square(1, 8, 0, 2, 2, 0).Validate()).ParamName);
        var shape = Pool2dShape.Square(1, 4, 65, 2, 2, 0);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => PackedMaxPool.Forward(new ulong[31], shape, new ulong[8])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => PackedMaxPool.Forward(new ulong[32], shape, new ulong[7])).ParamName);
    }

    [Fact]
    public void SteadyStateForwardAllocatesNothing()
    {
        var random = new Random(2);
        var shape = Pool2dShape.Square(8, 32, 512, 2, 2, 0);
        var input = RandomOperands.PackedRows(random, shape.Batch * shape.Height * shape.Width, shape.Channels);
        var output = new ulong[PackedMaxPool.OutputLength(shape)];
        PackedMaxPool.Forward(input, shape, output, threads: 2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
            PackedMaxPool.Forward(input, shape, output, threads: 2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
