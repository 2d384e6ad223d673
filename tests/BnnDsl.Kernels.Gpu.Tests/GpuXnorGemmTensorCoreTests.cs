// The tensor-core XNOR GEMM against the bit-by-bit reference: emulated through warp shuffles on the CPU accelerator
// (which checks the fragment layout the kernel loads), the real m16n8k256 mma on a CUDA device of compute capability 8.0+.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuXnorGemmTensorCoreTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    // (m, n, kBits): one output; K below, at and past one 256-bit step and with a word tail; m and n past a group's
    // 128 x 64 block and not multiples of the 16 x 8 instruction tile.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (3, 5, 63), (17, 9, 256), (16, 8, 257), (40, 70, 64 * 9 + 17), (130, 66, 512),
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        if (!GpuXnorGemmTensorCore.IsSupported(device))
            return;
        var random = new Random(31);
        foreach (var (m, n, k) in Shapes)
        {
            int words = (k + 63) / 64;
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            var expected = XnorGemmReference.Multiply(a, m, words, b, n, words, words, k);
            Assert.True(expected.AsSpan().SequenceEqual(GpuKernelChecks.TensorCoreDots(device, a, m, b, n, k)), $"m={m} n={n} k={k} differs from XnorGemmReference");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AllOnesAndAllZerosGiveTheExtremes(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        if (!GpuXnorGemmTensorCore.IsSupported(device))
            return;
        const int m = 16, n = 8, k = 300;
        int words = (k + 63) / 64;
        // Row 0 all -1 (every bit set), the others +1; column 0 all -1: dot = +k where both agree, -k where they differ.
        var a = new ulong[m * words];
        var b = new ulong[n * words];
        for (int w = 0; w < words; w++)
        {
            a[w] = w < words - 1 ? ulong.MaxValue : (1UL << (k % 64)) - 1;
            b[w] = a[w];
        }
        var dots = GpuKernelChecks.TensorCoreDots(device, a, m, b, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal((i == 0) == (j == 0) ? k : -k, dots[i * n + j]);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TooShortOutputIsRejectedNamingTheArgument(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        using var a = device.Allocate<ulong>(4 * 2);
        using var b = device.Allocate<ulong>(3 * 2);
        using var c = device.Allocate<int>(11);
        var error = Assert.Throws<ArgumentException>(() => GpuXnorGemmTensorCore.Multiply(device, a.View, 4, b.View, 3, 100, c.View));
        Assert.Equal("c", error.ParamName);
    }
}
