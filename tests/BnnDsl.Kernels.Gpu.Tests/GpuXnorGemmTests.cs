// The GPU XNOR GEMM (every tile shape, int32 and threshold outputs) against the bit-by-bit reference, on every accelerator.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuXnorGemmTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    // (m, n, kBits): single outputs, K around word and Depth boundaries, m and n not multiples of any tile.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (2, 3, 63), (5, 7, 64), (9, 33, 65), (33, 17, 64 * 4 + 1), (65, 70, 64 * 8 - 3), (70, 65, 64 * 9 + 17),
        (129, 40, 200),
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Tile64x64MatchesReference(GpuDeviceKind kind) => CheckInt32<Tile64x64>(kind, 11);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Tile128x64MatchesReference(GpuDeviceKind kind) => CheckInt32<Tile128x64>(kind, 12);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Tile32x32MatchesReference(GpuDeviceKind kind) => CheckInt32<Tile32x32>(kind, 13);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ThresholdBitsMatchReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(14);
        foreach (var (m, n, k) in Shapes)
        {
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            var threshold = new int[n];
            for (int j = 0; j < n; j++)
                threshold[j] = random.Next(-k, k + 1);
            var expected = XnorGemmReference.Threshold(XnorGemmReference.Multiply(a, m, a.Length / m, b, n, b.Length / n, a.Length / m, k), m, n, threshold);

            using var aBuffer = device.Accelerator.Allocate1D(a);
            using var bBuffer = device.Accelerator.Allocate1D(b);
            using var thresholdBuffer = device.Accelerator.Allocate1D(threshold);
            using var bits = device.Allocate<ulong>(expected.Length);
            // Stale bits from an earlier launch must not survive: the kernel clears its output first.
            bits.View.MemSet(0xFF);
            GpuXnorGemm.MultiplyThreshold<Tile32x32>(device, aBuffer.View, m, bBuffer.View, n, k, thresholdBuffer.View, bits.View);
            Assert.Equal(expected, bits.GetAsArray1D());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TooShortOutputIsRejectedNamingTheArgument(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        using var a = device.Allocate<ulong>(4 * 2);
        using var b = device.Allocate<ulong>(3 * 2);
        using var c = device.Allocate<int>(11);
        var error = Assert.Throws<ArgumentException>(() => GpuXnorGemm.Multiply<Tile32x32>(device, a.View, 4, b.View, 3, 100, c.View));
        Assert.Equal("c", error.ParamName);
        Assert.Contains("m * n", error.Message);
    }

    private static void CheckInt32<TTile>(GpuDeviceKind kind, int seed) where TTile : struct, IGemmTile
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(seed);
        foreach (var (m, n, k) in Shapes)
        {
            int words = (k + 63) / 64;
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            var expected = XnorGemmReference.Multiply(a, m, words, b, n, words, words, k);
            Assert.Equal(expected, GpuKernelChecks.XnorDots<TTile>(device, a, m, b, n, k));
        }
    }
}
