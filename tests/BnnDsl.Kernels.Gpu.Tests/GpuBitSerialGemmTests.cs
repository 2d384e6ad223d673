// The GPU bit-serial GEMM (every pair of widths, two tile shapes) against the integer reference on codes, on every accelerator.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuBitSerialGemmTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    private static readonly (int M, int N, int K)[] Shapes = [(1, 1, 1), (3, 5, 63), (9, 33, 65), (33, 17, 64 * 5 + 7), (70, 40, 130)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A2W1MatchesReference(GpuDeviceKind kind) => Check<A2W1, Tile64x64>(kind, 51);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A2W2MatchesReference(GpuDeviceKind kind) => Check<A2W2, Tile64x64>(kind, 52);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A4W4MatchesReference(GpuDeviceKind kind) => Check<A4W4, Tile32x32>(kind, 53);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A8W8MatchesReferenceAtTheLargestCodes(GpuDeviceKind kind) => Check<A8W8, Tile32x32>(kind, 54, allMax: true);

    [Fact]
    public void TooLongKIsRejectedWithTheFix()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        using var buffer = device.Allocate<ulong>(1);
        using var d = device.Allocate<int>(1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            GpuBitSerialGemm.Multiply<A8W8, Tile32x32>(device, buffer.View, 1, buffer.View, 1, 40_000, d.View));
        Assert.Equal("k", error.ParamName);
        Assert.Contains("split K", error.Message);
    }

    private static void Check<TBits, TTile>(GpuDeviceKind kind, int seed, bool allMax = false)
        where TBits : struct, IBitWidths
        where TTile : struct, IGemmTile
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(seed);
        int ka = default(TBits).ActivationBits, kw = default(TBits).WeightBits;
        foreach (var (m, n, k) in Shapes)
        {
            var aCodes = Codes(random, m * k, ka, allMax);
            var bCodes = Codes(random, n * k, kw, allMax);
            var expected = BitSerialGemmReference.Multiply(aCodes, m, bCodes, n, k, kw);
            using var a = device.Accelerator.Allocate1D(GpuKernelChecks.Planes(aCodes, m, k, ka));
            using var b = device.Accelerator.Allocate1D(GpuKernelChecks.Planes(bCodes, n, k, kw));
            using var d = device.Allocate<int>(m * n);
            GpuBitSerialGemm.Multiply<TBits, TTile>(device, a.View, m, b.View, n, k, d.View);
            Assert.Equal(expected, d.GetAsArray1D());
        }
    }

    private static byte[] Codes(Random random, int count, int bits, bool allMax)
    {
        var codes = new byte[count];
        for (int i = 0; i < count; i++)
            codes[i] = (byte)(allMax ? (1 << bits) - 1 : random.Next(1 << bits));
        return codes;
    }
}
