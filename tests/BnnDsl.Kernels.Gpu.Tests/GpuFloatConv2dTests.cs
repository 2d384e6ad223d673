// The GPU fused float convolution (bias, BatchNorm scale + shift, max pool) against the reference convolution and the
// scalar epilogue, within float rounding: strides, paddings, pools, filters and channels off every tile width.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuFloatConv2dTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesReferenceWithTheEpilogueAndPools(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(47);
        foreach (var (shape, poolKernel, poolStride) in new[]
        {
            (new Conv2dShape(1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0), 0, 0),
            (new Conv2dShape(2, 12, 12, 1, 8, 3, 3, 1, 1, 0, 0), 2, 2),
            (new Conv2dShape(2, 8, 8, 3, 20, 3, 3, 1, 1, 1, 1), 0, 0),
            (new Conv2dShape(1, 9, 7, 5, 13, 3, 3, 2, 2, 1, 1), 3, 1),
        })
        {
            var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
            var weight = RandomOperands.Floats(random, shape.Filters * shape.KernelH * shape.KernelW * shape.Channels);
            var bias = RandomOperands.Floats(random, shape.Filters);
            var scale = RandomOperands.Floats(random, shape.Filters);
            var shift = RandomOperands.Floats(random, shape.Filters);
            var expected = Expected(shape, input, weight, bias, scale, shift, poolKernel, poolStride);

            using var x = device.Accelerator.Allocate1D(input);
            using var w = device.Accelerator.Allocate1D(weight);
            using var b = device.Accelerator.Allocate1D(bias);
            using var s = device.Accelerator.Allocate1D(scale);
            using var t = device.Accelerator.Allocate1D(shift);
            using var y = device.Allocate<float>(expected.Length);
            GpuFloatConv2d.Forward(device, x.View, shape, w.View, b.View, s.View, t.View, poolKernel, poolStride, y.View);
            GpuTolerance.Close(expected, y.GetAsArray1D(), 1e-5f, $"conv {shape} pool {poolKernel}/{poolStride}");
        }
    }

    [Fact]
    public void APoolLargerThanTheOutputIsRejected()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        var shape = new Conv2dShape(1, 4, 4, 1, 1, 3, 3, 1, 1, 0, 0);
        using var buffer = device.Allocate<float>(16);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            GpuFloatConv2d.Forward(device, buffer.View, shape, buffer.View, buffer.View, buffer.View, buffer.View, 3, 1, buffer.View));
        Assert.Equal("poolKernel", error.ParamName);
    }

    /// <summary>The reference convolution with bias, then (v · scale + shift) per filter, then the max over each pool window.</summary>
    private static float[] Expected(Conv2dShape shape, float[] input, float[] weight, float[] bias, float[] scale, float[] shift, int poolKernel, int poolStride)
    {
        var conv = FloatConv2dReference.Forward(shape, input, weight, bias);
        int filters = shape.Filters;
        for (int i = 0; i < conv.Length; i++)
            conv[i] = conv[i] * scale[i % filters] + shift[i % filters];
        if (poolKernel == 0)
            return conv;
        var pool = new Pool2dShape(shape.Batch, shape.OutputHeight, shape.OutputWidth, filters, poolKernel, poolKernel, poolStride, poolStride, 0, 0);
        var pooled = new float[pool.OutputPositions * filters];
        for (int b = 0; b < pool.Batch; b++)
            for (int oy = 0; oy < pool.OutputHeight; oy++)
                for (int ox = 0; ox < pool.OutputWidth; ox++)
                    for (int f = 0; f < filters; f++)
                    {
                        float max = float.NegativeInfinity;
                        for (int ky = 0; ky < poolKernel; ky++)
                            for (int kx = 0; kx < poolKernel; kx++)
                                max = MathF.Max(max, conv[((b * pool.Height + oy * poolStride + ky) * pool.Width + ox * poolStride + kx) * filters + f]);
                        pooled[((b * pool.OutputHeight + oy) * pool.OutputWidth + ox) * filters + f] = max;
                    }
        return pooled;
    }
}
