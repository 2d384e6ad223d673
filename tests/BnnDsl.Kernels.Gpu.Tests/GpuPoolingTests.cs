// GPU max, average and global average pooling, forward and backward, against the runtime's pooling layers.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuPoolingTests
{
    // Max pooling selects and adds in the CPU's order: exact. Average pooling adds the same terms in the same order
    // and multiplies by the same 1 / kernel²; only an FMA contraction on CUDA (one rounding fewer per window, at most
    // 9 terms of O(1)) can move a result, by a few ulp: 1e-5 · (1 + |expected|) is far above that and far below any
    // indexing mistake (which moves a result by O(1)).
    private const float AverageTolerance = 1e-5f;

    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    // Padding, strides below and equal to the window, odd sizes, windows that tile the input exactly and ones that leave a rest.
    private static readonly Pool2dShape[] Shapes =
    [
        new(2, 5, 7, 3, 3, 3, 2, 2, 1, 1),
        Pool2dShape.Square(1, 6, 9, 2, 2, 0),
        new(2, 7, 5, 10, 3, 3, 1, 1, 1, 1),
        Pool2dShape.Square(1, 8, 17, 3, 3, 0),
        new(1, 5, 5, 2, 2, 2, 1, 1, 0, 0),
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MaxPoolMatchesMaxPoolLayerIncludingTies(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(51);
        foreach (var s in Shapes)
        {
            var layer = new MaxPoolLayer("pool", s.Batch, s.Height, s.Width, s.Channels, s.KernelH, s.StrideH, s.PadH);
            // Few distinct values, so windows hold ties: the first maximum in window order must win on both sides.
            var x = new float[layer.InputLength];
            for (int i = 0; i < x.Length; i++)
                x[i] = random.Next(4) - 1.5f;
            var dy = RandomOperands.Floats(random, layer.OutputLength);
            var (y, dx) = GpuTrainingChecks.LayerStep(layer, x, dy);

            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var dyBuffer = device.Accelerator.Allocate1D(dy);
            using var yBuffer = device.Allocate<float>(y.Length);
            using var argmax = device.Allocate<int>(y.Length);
            using var dxBuffer = device.Allocate<float>(dx.Length);
            dxBuffer.View.MemSet(0xFF);
            GpuMaxPool.Forward(device, xBuffer.View, s, yBuffer.View, argmax.View);
            GpuMaxPool.Backward(device, dyBuffer.View, argmax.View, s, dxBuffer.View);
            Assert.Equal(y, yBuffer.GetAsArray1D());
            Assert.Equal(dx, dxBuffer.GetAsArray1D());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AvgPoolMatchesAvgPoolLayer(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(52);
        foreach (var s in Shapes)
        {
            var layer = new AvgPoolLayer("pool", s.Batch, s.Height, s.Width, s.Channels, s.KernelH, s.StrideH, s.PadH);
            var x = RandomOperands.Floats(random, layer.InputLength);
            var dy = RandomOperands.Floats(random, layer.OutputLength);
            var (y, dx) = GpuTrainingChecks.LayerStep(layer, x, dy);

            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var dyBuffer = device.Accelerator.Allocate1D(dy);
            using var yBuffer = device.Allocate<float>(y.Length);
            using var dxBuffer = device.Allocate<float>(dx.Length);
            dxBuffer.View.MemSet(0xFF);
            GpuAvgPool.Forward(device, xBuffer.View, s, yBuffer.View);
            GpuAvgPool.Backward(device, dyBuffer.View, s, dxBuffer.View);
            GpuTolerance.Close(y, yBuffer.GetAsArray1D(), AverageTolerance, $"y {s}");
            GpuTolerance.Close(dx, dxBuffer.GetAsArray1D(), AverageTolerance, $"dx {s}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GlobalAvgPoolMatchesGlobalAvgPoolLayer(GpuDeviceKind kind)
    {
        // Both sum the positions in double in order and round once: equal up to an FMA contraction on CUDA.
        var device = GpuTestDevices.Get(kind);
        var random = new Random(53);
        foreach (var (batch, height, width, channels) in new[] { (1, 1, 1, 1), (3, 5, 7, 13), (2, 4, 4, 70) })
        {
            var layer = new GlobalAvgPoolLayer("gap", batch, height, width, channels);
            var x = RandomOperands.Floats(random, layer.InputLength);
            var dy = RandomOperands.Floats(random, layer.OutputLength);
            var (y, dx) = GpuTrainingChecks.LayerStep(layer, x, dy);

            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var dyBuffer = device.Accelerator.Allocate1D(dy);
            using var yBuffer = device.Allocate<float>(y.Length);
            using var dxBuffer = device.Allocate<float>(dx.Length);
            GpuAvgPool.GlobalForward(device, xBuffer.View, batch, height * width, channels, yBuffer.View);
            GpuAvgPool.GlobalBackward(device, dyBuffer.View, batch, height * width, channels, dxBuffer.View);
            GpuTolerance.Close(y, yBuffer.GetAsArray1D(), AverageTolerance, "global y");
            GpuTolerance.Close(dx, dxBuffer.GetAsArray1D(), AverageTolerance, "global dx");
        }
    }
}
