// GPU per-channel affine transforms (x · scale + shift, in place too, and + bias) against the scalar formulas: exactly on
// the CPU accelerator, to FMA contraction on CUDA (GpuTolerance.SameFloats).
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuAffineTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ScaleShiftAndBiasMatchTheScalarFormulas(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(44);
        foreach (var (rows, channels) in new[] { (1, 1), (7, 13), (5, 70) })
        {
            var x = RandomOperands.Floats(random, rows * channels);
            var scale = RandomOperands.Floats(random, channels);
            var shift = RandomOperands.Floats(random, channels);
            var expected = new float[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                float scaled = x[i] * scale[i % channels];
                expected[i] = scaled + shift[i % channels];
            }
            using var values = device.Accelerator.Allocate1D(x);
            using var s = device.Accelerator.Allocate1D(scale);
            using var t = device.Accelerator.Allocate1D(shift);
            GpuAffine.Forward(device, values.View, rows, channels, s.View, t.View, values.View);
            GpuTolerance.SameFloats(kind, expected, values.GetAsArray1D(), $"affine ({rows}, {channels})");

            for (int i = 0; i < x.Length; i++)
                expected[i] += shift[i % channels];
            GpuAffine.AddBias(device, values.View, rows, channels, t.View);
            GpuTolerance.SameFloats(kind, expected, values.GetAsArray1D(), $"add bias ({rows}, {channels})");
        }
    }

    [Fact]
    public void AShortScaleIsRejectedNamingIt()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        using var x = device.Allocate<float>(12);
        using var scale = device.Allocate<float>(2);
        var error = Assert.Throws<ArgumentException>(() => GpuAffine.Forward(device, x.View, 4, 3, scale.View, x.View, x.View));
        Assert.Equal("scale", error.ParamName);
    }
}
