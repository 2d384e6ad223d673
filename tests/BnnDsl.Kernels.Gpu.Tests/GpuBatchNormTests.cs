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
    // magnitude, and the outputs, O(1) here, by a few 1e-6. 1e-4 · (1 + |expected|) covers that with margin, except on
    // a channel whose values lie close together (two rows): there one rounding in x − mean is amplified by 1/σ² in dx
    // (an H100 gave 3.1e-4 relative there, 2026-11-26), which RoundingBounds adds per channel.
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
            var (yBound, dxBound, dGammaBound) = RoundingBounds(x, dy, layer.Gamma.Value, rows, channels, layer.Epsilon);
            Close(expectedY, y.GetAsArray1D(), yBound, "y " + at);
            GpuTolerance.Close(layer.RunningMean.Value, runningMean.GetAsArray1D(), Tolerance, "running mean " + at);
            GpuTolerance.Close(layer.RunningVar.Value, runningVar.GetAsArray1D(), Tolerance, "running var " + at);
            Close(expectedDx, dx.GetAsArray1D(), dxBound, "dx " + at);
            Close(layer.Gamma.Gradient, dGamma.GetAsArray1D(), dGammaBound, "dgamma " + at);
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

    /// <summary>
    /// Per channel, what one rounding more or less in x − mean (an ulp u of max |x|, which CUDA's FMA contraction can
    /// move) does to each output: x̂ moves by u/σ, so y by 4·|γ|·u/σ, dx = (dy − mean dy − x̂·mean(dy·x̂))/σ by
    /// 4·(u/σ²)·(1 + √rows)·max |dy| and dγ = Σ dy·x̂ by 4·rows·(u/σ)·max |dy| (4: a few such roundings). A channel whose
    /// few values lie close together (σ small: two rows) is ill-conditioned, and there the bound grows with 1/σ²; a
    /// well-spread channel's bound stays below 1e-4. Added to <see cref="Tolerance"/>·(1 + |expected|).
    /// </summary>
    private static (float[] Y, float[] Dx, float[] DGamma) RoundingBounds(float[] x, float[] dy, float[] gamma, int rows, int channels, float epsilon)
    {
        float maxX = x.Max(MathF.Abs), maxDy = dy.Max(MathF.Abs);
        double ulp = MathF.BitIncrement(maxX) - maxX;
        var (yBound, dxBound, dGammaBound) = (new float[channels], new float[channels], new float[channels]);
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int r = 0; r < rows; r++)
                sum += x[r * channels + c];
            double mean = sum / rows;
            for (int r = 0; r < rows; r++)
                squares += (x[r * channels + c] - mean) * (x[r * channels + c] - mean);
            double inverseStd = 1 / Math.Sqrt(squares / rows + epsilon), moved = ulp * inverseStd;
            yBound[c] = (float)(4 * Math.Abs(gamma[c]) * moved);
            dxBound[c] = (float)(4 * moved * inverseStd * (1 + Math.Sqrt(rows)) * maxDy);
            dGammaBound[c] = (float)(4 * rows * moved * maxDy);
        }
        return (yBound, dxBound, dGammaBound);
    }

    /// <summary>Every |actual − expected| ≤ Tolerance·(1 + |expected|) + bound[channel] (values channels-last, or one per channel).</summary>
    private static void Close(float[] expected, float[] actual, float[] bound, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float allowed = Tolerance * (1 + MathF.Abs(expected[i])) + bound[i % bound.Length];
            if (!(MathF.Abs(actual[i] - expected[i]) <= allowed))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {allowed:G3}: 1e-4 · (1 + |expected|) + {bound[i % bound.Length]:G3} for the channel's conditioning).");
        }
    }

    private static void Fill(Random random, float[] values, float low, float high)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = low + random.NextSingle() * (high - low);
    }
}
