// In-place weight updates for training: XnorPackedB.Repack, BinaryConvWeights.Update and
// BinaryConv2dPlan.UpdateWeights equal a fresh build from the same weights and allocate nothing.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class BinaryWeightsUpdateTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    [Fact]
    public void RepackEqualsAFreshPack()
    {
        var random = new Random(5);
        foreach (var (n, bits) in new[] { (1, 1), (17, 64), (16, 65), (70, 100), (33, 1600) })
        {
            int words = (bits + 63) / 64;
            var packed = XnorPackedB.Pack(RandomOperands.PackedRows(random, n, bits), n, words, bits);
            var next = RandomOperands.PackedRows(random, n, bits);
            packed.Repack(next);
            var fresh = XnorPackedB.Pack(next, n, words, bits);
            for (int col = 0; col < n; col++)
                for (int k = 0; k < words; k++)
                    Assert.Equal(fresh.WordAt(col, k), packed.WordAt(col, k));
        }
    }

    [Fact]
    public void RepackChecksTheRowLength()
    {
        var packed = XnorPackedB.Pack(new ulong[6], 3, 2, 100);
        var error = Assert.Throws<ArgumentException>(() => packed.Repack(new ulong[5]));
        Assert.Equal("b", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void UpdatedPlanMatchesAFreshPlanAndTheReference(KernelPath path)
    {
        var random = new Random(11);
        Conv2dShape[] shapes =
        [
            new(2, 6, 5, 3, 17, 3, 3, 1, 1, 1, 1),
            new(1, 7, 7, 37, 5, 5, 5, 2, 2, 2, 2),
            new(2, 5, 6, 64, 16, 3, 3, 1, 2, 1, 0),
            new(1, 5, 5, 100, 3, 3, 3, 1, 1, 0, 0),
        ];
        foreach (var shape in shapes)
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                int weightCount = shape.Filters * shape.KernelH * shape.KernelW * shape.Channels;
                var plan = new BinaryConv2dPlan(shape, BinaryConvWeights.FromFloats(
                    RandomOperands.Floats(random, weightCount), shape.Filters, shape.KernelH, shape.KernelW, shape.Channels), padding);
                var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
                var packedInput = new ulong[BinaryConv2d.InputLength(shape)];
                SignPacking.Pack(input, shape.Batch * shape.Height * shape.Width, shape.Channels, packedInput);
                var scratch = new ulong[BinaryConv2d.ScratchLength(shape)];
                for (int step = 0; step < 3; step++)
                {
                    var weights = RandomOperands.Floats(random, weightCount);
                    plan.UpdateWeights(weights, path);
                    var fresh = BinaryConvWeights.FromFloats(weights, shape.Filters, shape.KernelH, shape.KernelW, shape.Channels);
                    for (int o = 0; o < shape.Filters; o++)
                    {
                        for (int tap = 0; tap < shape.KernelH * shape.KernelW; tap++)
                            Assert.Equal(fresh.TapSum(o, tap), plan.Weights.TapSum(o, tap));
                        for (int k = 0; k < fresh.Packed.KWords; k++)
                            Assert.Equal(fresh.Packed.WordAt(o, k), plan.Weights.Packed.WordAt(o, k));
                    }
                    var dots = new int[shape.OutputPositions * shape.Filters];
                    BinaryConv2d.Forward(packedInput, plan, scratch, XnorOutput.Int32(dots, shape.Filters), path, threads: 1);
                    Assert.Equal(BinaryConv2dReference.Dots(input, weights, shape, padding), dots);
                }
            }
    }

    [Fact]
    public void UpdateAllocatesNothing()
    {
        var random = new Random(3);
        var shape = new Conv2dShape(2, 8, 8, 37, 20, 3, 3, 1, 1, 1, 1);
        int weightCount = 20 * 3 * 3 * 37;
        var plan = new BinaryConv2dPlan(shape, BinaryConvWeights.FromFloats(
            RandomOperands.Floats(random, weightCount), 20, 3, 3, 37), BinaryPadding.Zero);
        var weights = RandomOperands.Floats(random, weightCount);
        plan.UpdateWeights(weights);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
            plan.UpdateWeights(weights);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
