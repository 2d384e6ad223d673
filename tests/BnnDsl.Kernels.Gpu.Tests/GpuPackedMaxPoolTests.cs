// GPU max pooling of packed signs against the unpack-pool-repack reference: windows, strides, padding, channel tails.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuPackedMaxPoolTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(43);
        foreach (var shape in new Pool2dShape[]
        {
            new(1, 4, 4, 1, 2, 2, 2, 2, 0, 0),
            new(2, 5, 5, 70, 2, 2, 2, 2, 0, 0),
            new(1, 7, 6, 130, 3, 3, 2, 2, 1, 1),
            new(2, 6, 6, 64, 3, 2, 1, 2, 0, 1),
        })
        {
            var packed = RandomOperands.PackedRows(random, shape.Batch * shape.Height * shape.Width, shape.Channels);
            var expected = PackedMaxPoolReference.Forward(packed, shape);
            using var input = device.Accelerator.Allocate1D(packed);
            using var output = device.Allocate<ulong>(expected.Length);
            GpuPackedMaxPool.Forward(device, input.View, shape, output.View);
            Assert.Equal(expected, output.GetAsArray1D());
        }
    }
}
