// GPU batch normalization (training forward with the running update, evaluation forward, backward) against BatchNormLayer.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuBatchNormTests
{
    // Both sides sum in float over the same blocks of 128 rows in row order, then in double over the blocks, so the
    // CPU accelerator matches bit for bit. On CUDA, ptxas may contract a multiply and an add into one FMA (one rounding
    // fewer per term): each float block sum of at most 128 terms then moves by at most about 128 · 2^-24 ≈ 8e-6 of its
    // magnitude, and the outputs, O(1) here, by a few 1e-6. 1e-4 · (1 + |expected|) covers that with margin.
    private const float Tolerance = 1e-4f;

    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    // (batch, positions, channels): one row, rows below, at and across the 128-row blocks, channels not multiples of 8.
    private static readonly (int Batch, int Positions, int Channels)[] Shapes = [(1, 1, 5), (2, 1, 70), (2, 64, 9), (3, 50, 13), (5, 64, 8)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TrainingForwardBackwardAndEvaluationMatchBatchNormLayer(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(41);
        foreach (var (batch, positions, channels) in Shapes)
        {
            int rows = batch * positions, count = rows * channels;
            var layer = new BatchNormLayer("bn", batch, positions, channels, momentum: 0.2f);
            Fill(random, layer.Gamma.Value, 0.5f, 1.5f);
            Fill(random, layer.Beta.Value, -0.5f, 0.5f);
            Fill(random, layer.RunningMean.Value, -0.2f, 0.2f);
            Fill(random, layer.RunningVar.Value, 0.5f, 2f);
            var x = new float[count];
            Fill(random, x, 2f, 5f);  // an offset mean: the shifted sums must keep the variance exact
            var dy = RandomOperands.Floats(random, count);

            using var gamma = device.Accelerator.Allocate1D(layer.Gamma.Value);
            using var beta = device.Accelerator.Allocate1D(layer.Beta.Value);
            using var runningMean = device.Accelerator.Allocate1D(layer.RunningMean.Value);
            using var runningVar = device.Accelerator.Allocate1D(layer.RunningVar.Value);
            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var dyBuffer = device.Accelerator.Allocate1D(dy);
            using var mean = device.Allocate<float>(channels);
            using var inverseStd = device.Allocate<float>(channels);
            using var dGamma = device.Allocate<float>(channels);
            using var dBeta = device.Allocate<float>(channels);
            using var scratch = device.Allocate<float>(GpuBatchNorm.ScratchLength(rows, channels));
            using var y = device.Allocate<float>(count);
            using var dx = device.Allocate<float>(count);

            var expectedY = new float[count];
            var expectedDx = new float[count];
            layer.Forward(x, expectedY, training: true);
            layer.Backward(x, expectedY, dy, expectedDx);
            GpuBatchNorm.ForwardTraining(device, xBuffer.View, rows, channels, gamma.View, beta.View, runningMean.View, runningVar.View,
                0.2f, layer.Epsilon, mean.View, inverseStd.View, scratch.View, y.View);
            GpuBatchNorm.Backward(device, xBuffer.View, dyBuffer.View, rows, channels, gamma.View, mean.View, inverseStd.View,
                dGamma.View, dBeta.View, scratch.View, dx.View);
            string at = $"({batch}, {positions}, {channels})";
            GpuTolerance.Close(expectedY, y.GetAsArray1D(), Tolerance, "y " + at);
            GpuTolerance.Close(layer.RunningMean.Value, runningMean.GetAsArray1D(), Tolerance, "running mean " + at);
            GpuTolerance.Close(layer.RunningVar.Value, runningVar.GetAsArray1D(), Tolerance, "running var " + at);
            GpuTolerance.Close(expectedDx, dx.GetAsArray1D(), Tolerance, "dx " + at);
            GpuTolerance.Close(layer.Gamma.Gradient, dGamma.GetAsArray1D(), Tolerance, "dgamma " + at);
            GpuTolerance.Close(layer.Beta.Gradient, dBeta.GetAsArray1D(), Tolerance, "dbeta " + at);

            // Evaluation with the (CPU-updated) running statistics.
            runningMean.CopyFromCPU(layer.RunningMean.Value);
            runningVar.CopyFromCPU(layer.RunningVar.Value);
            layer.Forward(x, expectedY, training: false);
            GpuBatchNorm.ForwardInference(device, xBuffer.View, rows, channels, gamma.View, beta.View, runningMean.View, runningVar.View,
                layer.Epsilon, scratch.View, y.View);
            GpuTolerance.Close(expectedY, y.GetAsArray1D(), Tolerance, "evaluation y " + at);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ShortScratchIsRejectedNamingTheArgument(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        using var x = device.Allocate<float>(200 * 3);
        using var vector = device.Allocate<float>(3);
        using var scratch = device.Allocate<float>(GpuBatchNorm.ScratchLength(200, 3) - 1);
        var error = Assert.Throws<ArgumentException>(() => GpuBatchNorm.ForwardInference(device, x.View, 200, 3, vector.View, vector.View,
            vector.View, vector.View, 1e-5f, scratch.View, x.View));
        Assert.Equal("scratch", error.ParamName);
        Assert.Contains("ScratchLength", error.Message);
    }

    private static void Fill(Random random, float[] values, float low, float high)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = low + random.NextSingle() * (high - low);
    }
}
