// GPU element-wise addition (the residual add) against the scalar sum, exactly, out of place and in place.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuAddTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SumsMatchExactly(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(45);
        foreach (int count in new[] { 1, 9, 1000 })
        {
            var a = RandomOperands.Floats(random, count);
            var b = RandomOperands.Floats(random, count);
            var expected = a.Zip(b, (x, y) => x + y).ToArray();
            using var first = device.Accelerator.Allocate1D(a);
            using var second = device.Accelerator.Allocate1D(b);
            using var sum = device.Allocate<float>(count);
            GpuAdd.Forward(device, first.View, second.View, sum.View, count);
            Assert.Equal(expected, sum.GetAsArray1D());
            GpuAdd.Forward(device, first.View, second.View, first.View, count);
            Assert.Equal(expected, first.GetAsArray1D());
        }
    }
}
