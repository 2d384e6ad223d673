// GPU sign packing against the bit-by-bit reference, on every accelerator: channel tails, zeros, NaN, infinities.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuSignPackingTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesReferenceForChannelsAroundWordBoundaries(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(31);
        foreach (int channels in new[] { 1, 2, 7, 8, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 577 })
        {
            int rows = 1 + random.Next(5);
            var x = RandomOperands.Floats(random, rows * channels, zeroShare: 0.2f);
            Check(device, x, rows, channels);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ZeroPacksAsPlusOneAndNaNAsMinusOne(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        float[] x = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, 1f, -1f];
        var packed = Check(device, x, 1, x.Length);
        Assert.Equal(0b1_0101_0100UL, packed[0]);
    }

    private static ulong[] Check(GpuDevice device, float[] x, int rows, int channels)
    {
        var expected = SignPackingReference.Pack(x, rows, channels);
        using var source = device.Accelerator.Allocate1D(x);
        using var packed = device.Allocate<ulong>(expected.Length);
        packed.View.MemSet(0xFF);
        GpuSignPacking.Pack(device, source.View, rows, channels, packed.View);
        var actual = packed.GetAsArray1D();
        Assert.Equal(expected, actual);
        return actual;
    }
}
