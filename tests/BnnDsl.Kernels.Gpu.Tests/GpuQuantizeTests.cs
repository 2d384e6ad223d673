// GPU k-bit activation quantization against the reference codes, bit for bit, at every width, halves and clip edges included.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuQuantizeTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesTheReferenceCodesAtEveryWidth(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(46);
        for (int bits = 2; bits <= 8; bits++)
        {
            int levels = (1 << bits) - 1;
            // values in [-0.5, 1.5), every exact half between two codes, and the clip edges
            var x = RandomOperands.UniformFloats(random, 400).Select(v => v + 0.5f)
                .Concat(Enumerable.Range(0, levels).Select(i => (i + 0.5f) / levels))
                .Concat([0f, -0f, 1f, 1.0000001f, -1e-30f, float.PositiveInfinity, float.NegativeInfinity]).ToArray();
            var expected = x.Select(v => BitSerialGemmReference.QuantizeActivation(v, bits) * (1f / levels)).ToArray();
            using var input = device.Accelerator.Allocate1D(x);
            using var output = device.Allocate<float>(x.Length);
            GpuQuantize.Forward(device, input.View, output.View, x.Length, bits);
            Assert.Equal(expected, output.GetAsArray1D());
        }
    }
}
