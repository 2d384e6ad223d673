// GPU k-bit activation packing (dense rows, and convolution patches read straight from the image) against the
// reference codes laid out bit by bit in the BitPlanes row layout.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuBitPlanesTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RowsMatchTheReferencePlanes(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(48);
        foreach (var (rows, k, bits) in new[] { (1, 1, 2), (3, 63, 3), (2, 65, 8), (4, 130, 4) })
        {
            var values = RandomOperands.UniformFloats(random, rows * k).Select(v => v + 0.4f).ToArray();
            var expected = GpuKernelChecks.Planes(Codes(values, bits), rows, k, bits);
            using var source = device.Accelerator.Allocate1D(values);
            using var planes = device.Allocate<ulong>(expected.Length);
            planes.View.MemSet(0xFF);
            GpuBitPlanes.PackRows(device, source.View, rows, k, bits, planes.View);
            Assert.Equal(expected, planes.GetAsArray1D());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void PatchesMatchTheReferenceIm2ColPlanes(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(49);
        foreach (var (shape, bits) in new[]
        {
            (new Conv2dShape(2, 5, 5, 10, 1, 3, 3, 1, 1, 1, 1), 2),
            (new Conv2dShape(1, 6, 7, 16, 1, 3, 3, 2, 2, 1, 1), 4),
            (new Conv2dShape(2, 4, 4, 70, 1, 1, 1, 1, 1, 0, 0), 8),
        })
        {
            var input = RandomOperands.UniformFloats(random, shape.Batch * shape.Height * shape.Width * shape.Channels).Select(v => v + 0.4f).ToArray();
            int k = shape.KernelH * shape.KernelW * shape.Channels;
            var expected = GpuKernelChecks.Planes(Codes(FloatConv2dReference.Im2Col(shape, input), bits), shape.OutputPositions, k, bits);
            using var source = device.Accelerator.Allocate1D(input);
            using var planes = device.Allocate<ulong>(expected.Length);
            GpuBitPlanes.PackPatches(device, source.View, shape, bits, planes.View);
            Assert.Equal(expected, planes.GetAsArray1D());
        }
    }

    private static byte[] Codes(float[] values, int bits) => [.. values.Select(v => BitSerialGemmReference.QuantizeActivation(v, bits))];
}
