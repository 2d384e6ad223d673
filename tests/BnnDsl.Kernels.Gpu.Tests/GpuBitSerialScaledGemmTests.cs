// The runtime-width GPU bit-serial GEMM against the integer reference on codes times the scale, for width pairs the
// type-parameter kernel has no struct for, on every accelerator.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuBitSerialScaledGemmTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryWidthPairMatchesTheReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(50);
        foreach (var (ka, kw) in new[] { (2, 1), (2, 2), (3, 5), (5, 3), (8, 8), (7, 2) })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 9, 65), (17, 6, 130) })
            {
                var aCodes = Codes(random, m * k, ka);
                var bCodes = Codes(random, n * k, kw);
                float scale = 1f / (((1 << ka) - 1) * ((1 << kw) - 1));
                var expected = BitSerialGemmReference.Multiply(aCodes, m, bCodes, n, k, kw).Select(d => d * scale).ToArray();
                using var a = device.Accelerator.Allocate1D(GpuKernelChecks.Planes(aCodes, m, k, ka));
                using var b = device.Accelerator.Allocate1D(GpuKernelChecks.Planes(bCodes, n, k, kw));
                using var y = device.Allocate<float>(m * n);
                GpuBitSerialScaledGemm.Multiply(device, a.View, m, ka, b.View, n, kw, k, scale, y.View);
                Assert.Equal(expected, y.GetAsArray1D());
            }
    }

    [Fact]
    public void AnActivationWidthOfOneIsRejected()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        using var buffer = device.Allocate<ulong>(4);
        using var y = device.Allocate<float>(1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            GpuBitSerialScaledGemm.Multiply(device, buffer.View, 1, 1, buffer.View, 1, 2, 8, 1f, y.View));
        Assert.Equal("activationBits", error.ParamName);
    }

    private static byte[] Codes(Random random, int count, int bits)
    {
        var codes = new byte[count];
        for (int i = 0; i < count; i++)
            codes[i] = (byte)random.Next(1 << bits);
        return codes;
    }
}
