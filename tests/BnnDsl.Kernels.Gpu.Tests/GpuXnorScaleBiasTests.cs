// The float (scale · dot + bias) output of the GPU XNOR GEMM and binary convolution against the references' scale-bias
// outputs (one multiply and one add per output, as the CPU kernel rounds them): exactly on the CPU accelerator, to FMA
// contraction on CUDA (GpuTolerance.SameFloats); the integer dots behind them exactly everywhere.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuXnorScaleBiasTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GemmMatchesTheReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(51);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (3, 70, 130), (40, 9, 64) })
        {
            int words = SignPacking.WordsFor(k);
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            var scale = RandomOperands.Floats(random, n);
            var bias = RandomOperands.Floats(random, n);
            var expected = XnorGemmReference.ScaleBias(XnorGemmReference.Multiply(a, m, words, b, n, words, words, k), m, n, scale, bias);
            using var aBuffer = device.Accelerator.Allocate1D(a);
            using var bBuffer = device.Accelerator.Allocate1D(b);
            using var s = device.Accelerator.Allocate1D(scale);
            using var t = device.Accelerator.Allocate1D(bias);
            using var c = device.Allocate<float>(m * n);
            GpuXnorGemm.MultiplyScaleBias<Tile32x32>(device, aBuffer.View, m, bBuffer.View, n, k, s.View, t.View, c.View);
            GpuTolerance.SameFloats(kind, expected, c.GetAsArray1D(), $"gemm ({m}, {n}, {k})");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ConvolutionMatchesTheReferenceWithBothPaddings(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(52);
        foreach (var shape in new[] { new Conv2dShape(2, 5, 5, 70, 67, 3, 3, 1, 1, 1, 1), new Conv2dShape(1, 6, 6, 16, 9, 3, 3, 2, 2, 1, 1) })
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                var input = RandomOperands.Floats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
                var weights = RandomOperands.Floats(random, shape.Filters * shape.KernelH * shape.KernelW * shape.Channels);
                var scale = RandomOperands.Floats(random, shape.Filters);
                var bias = RandomOperands.Floats(random, shape.Filters);
                var expected = BinaryConv2dReference.ScaleBias(BinaryConv2dReference.Dots(input, weights, shape, padding), shape, scale, bias);
                using var x = device.Accelerator.Allocate1D(Pack(input, shape.Channels));
                using var w = device.Accelerator.Allocate1D(Pack(weights, shape.Channels));
                using var s = device.Accelerator.Allocate1D(scale);
                using var t = device.Accelerator.Allocate1D(bias);
                using var y = device.Allocate<float>(expected.Length);
                GpuBinaryConv2d.ForwardScaleBias<Tile32x32>(device, x.View, w.View, shape, padding, s.View, t.View, y.View);
                GpuTolerance.SameFloats(kind, expected, y.GetAsArray1D(), $"conv {shape} {padding}");
            }
    }

    private static ulong[] Pack(float[] values, int channels)
    {
        int rows = values.Length / channels;
        var packed = new ulong[rows * SignPacking.WordsFor(channels)];
        SignPacking.Pack(values, rows, channels, packed);
        return packed;
    }
}
