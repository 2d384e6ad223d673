// GPU bias broadcast, column sums (the runtime's block order), int32-to-float, add and accumulate: exact.
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuBiasAndTensorOpsTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BroadcastAndColumnSumsEqualTheRuntimeOrder(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(11);
        foreach (var (rows, cols) in new[] { (1, 1), (7, 3), (256, 5), (600, 17) })
        {
            var bias = Enumerable.Range(0, cols).Select(_ => random.NextSingle() - 0.5f).ToArray();
            var x = Enumerable.Range(0, rows * cols).Select(_ => random.NextSingle() * 2f - 1f).ToArray();
            using var biasBuffer = device.Accelerator.Allocate1D(bias);
            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var y = device.Allocate<float>(rows * cols);
            using var scratch = device.Allocate<float>(GpuBias.ScratchLength(rows, cols));
            using var sums = device.Allocate<float>(cols);

            GpuBias.Broadcast(device, biasBuffer.View, rows, cols, y.View);
            Assert.Equal(Enumerable.Range(0, rows * cols).Select(i => bias[i % cols]).ToArray(), y.GetAsArray1D());
            GpuBias.ColumnSums(device, xBuffer.View, rows, cols, scratch.View, sums.View);
            Assert.Equal(ColumnSums(x, rows, cols), sums.GetAsArray1D());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ToFloatAddAndAccumulateAreExact(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(3);
        int[] dots = [0, 1, -1, 16_777_216, -16_777_216, .. Enumerable.Range(0, 95).Select(_ => random.Next(-5000, 5000))];
        var a = dots.Select(_ => random.NextSingle() * 8f - 4f).ToArray();
        var b = dots.Select(_ => random.NextSingle() * 8f - 4f).ToArray();
        using var dotBuffer = device.Accelerator.Allocate1D(dots);
        using var aBuffer = device.Accelerator.Allocate1D(a);
        using var bBuffer = device.Accelerator.Allocate1D(b);
        using var y = device.Allocate<float>(dots.Length);

        GpuTensorOps.ToFloat(device, dotBuffer.View, y.View, dots.Length);
        Assert.Equal(dots.Select(d => (float)d).ToArray(), y.GetAsArray1D());
        GpuTensorOps.Add(device, aBuffer.View, bBuffer.View, y.View, dots.Length);
        Assert.Equal(a.Zip(b, (p, q) => p + q).ToArray(), y.GetAsArray1D());
        GpuTensorOps.Accumulate(device, y.View, aBuffer.View, dots.Length);
        Assert.Equal(a.Zip(b, (p, q) => p + q + p).ToArray(), y.GetAsArray1D());
    }

    /// <summary>The runtime's ColumnSums: float over blocks of 256 rows, then the blocks in double.</summary>
    private static float[] ColumnSums(float[] x, int rows, int cols)
    {
        var sums = new float[cols];
        for (int c = 0; c < cols; c++)
        {
            double total = 0;
            for (int first = 0; first < rows; first += GpuBias.BlockRows)
            {
                float block = 0f;
                for (int r = first; r < Math.Min(rows, first + GpuBias.BlockRows); r++)
                    block += x[r * cols + c];
                total += block;
            }
            sums[c] = (float)total;
        }
        return sums;
    }
}
