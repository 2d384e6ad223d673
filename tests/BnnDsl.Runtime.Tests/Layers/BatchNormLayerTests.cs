// Batch normalization: training forward against a naive double computation, running statistics after two
// steps, evaluation with running statistics, backward against finite differences.
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class BatchNormLayerTests
{
    private static (double[] Mean, double[] Variance) Moments(float[] x, int channels)
    {
        int n = x.Length / channels;
        var mean = new double[channels];
        var variance = new double[channels];
        for (int i = 0; i < x.Length; i++)
            mean[i % channels] += x[i];
        for (int c = 0; c < channels; c++)
            mean[c] /= n;
        for (int i = 0; i < x.Length; i++)
            variance[i % channels] += (x[i] - mean[i % channels]) * (x[i] - mean[i % channels]);
        for (int c = 0; c < channels; c++)
            variance[c] /= n;
        return (mean, variance);
    }

    [Theory]
    [InlineData(3, 5, 7)]
    [InlineData(4, 1, 16)]
    [InlineData(2, 300, 9)]
    [InlineData(5, 4, 1)]
    public void TrainingForwardNormalizesWithBatchStatistics(int batch, int positions, int channels)
    {
        var random = new Random(20);
        var layer = new BatchNormLayer("bn", batch, positions, channels);
        Floats(random, channels, 2f).CopyTo(layer.Gamma.Value, 0);
        Floats(random, channels).CopyTo(layer.Beta.Value, 0);
        // An offset far from zero checks that the variance does not suffer from cancellation.
        var x = Floats(random, layer.InputLength, 3f).Select(v => v + 50f).ToArray();
        var y = new float[x.Length];
        layer.Forward(x, y, training: true);
        var (mean, variance) = Moments(x, channels);
        var expected = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            expected[i] = (float)(layer.Gamma.Value[c] * (x[i] - mean[c]) / Math.Sqrt(variance[c] + 1e-5) + layer.Beta.Value[c]);
        }
        AssertClose(expected, y, 1e-3, 1e-3, "y");
    }

    [Fact]
    public void RunningStatisticsAfterTwoStepsAndEvaluationUsesThem()
    {
        var random = new Random(21);
        const int batch = 4, positions = 3, channels = 5;
        var layer = new BatchNormLayer("bn", batch, positions, channels, momentum: 0.2f);
        Floats(random, channels, 2f).CopyTo(layer.Gamma.Value, 0);
        Floats(random, channels).CopyTo(layer.Beta.Value, 0);
        var runningMean = new double[channels];
        var runningVar = Enumerable.Repeat(1.0, channels).ToArray();
        int n = batch * positions;
        var y = new float[layer.OutputLength];
        for (int step = 0; step < 2; step++)
        {
            var x = Floats(random, layer.InputLength, 2f).Select(v => v + step).ToArray();
            layer.Forward(x, y, training: true);
            var (mean, variance) = Moments(x, channels);
            for (int c = 0; c < channels; c++)
            {
                runningMean[c] = 0.8 * runningMean[c] + 0.2 * mean[c];
                runningVar[c] = 0.8 * runningVar[c] + 0.2 * variance[c] * n / (n - 1);
            }
        }
        AssertClose([.. runningMean.Select(v => (float)v)], layer.RunningMean.Value, 1e-5, 1e-6, "running_mean");
        AssertClose([.. runningVar.Select(v => (float)v)], layer.RunningVar.Value, 1e-5, 1e-6, "running_var");

        var evalInput = Floats(random, layer.InputLength, 2f);
        layer.Forward(evalInput, y, training: false);
        var expected = new float[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int c = i % channels;
            expected[i] = (float)(layer.Gamma.Value[c] * (evalInput[i] - runningMean[c]) / Math.Sqrt(runningVar[c] + 1e-5) + layer.Beta.Value[c]);
        }
        AssertClose(expected, y, 1e-4, 1e-5, "y (eval)");
        AssertClose([.. runningMean.Select(v => (float)v)], layer.RunningMean.Value, 1e-5, 1e-6, "running_mean after eval");
    }

    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(2, 200, 9)]
    [InlineData(6, 1, 16)]
    public void BackwardMatchesFiniteDifferences(int batch, int positions, int channels)
    {
        var random = new Random(22);
        var layer = new BatchNormLayer("bn", batch, positions, channels);
        Floats(random, channels, 2f).CopyTo(layer.Gamma.Value, 0);
        Floats(random, channels).CopyTo(layer.Beta.Value, 0);
        CheckGradients(layer, Floats(random, layer.InputLength, 2f), random, step: 1e-2f, relative: 2e-2, absolute: 5e-3);
    }

    [Fact]
    public void ParametersHaveTheirRolesAndInitialValues()
    {
        var layer = new BatchNormLayer("bn1", 2, 3, 4);
        layer.Initialize(new Random(1));
        Assert.Equal(["bn1.gamma", "bn1.beta", "bn1.running_mean", "bn1.running_var"], layer.Parameters.Select(p => p.Name));
        Assert.Equal([ParameterRole.Scale, ParameterRole.Bias, ParameterRole.State, ParameterRole.State], layer.Parameters.Select(p => p.Role));
        Assert.All(layer.Gamma.Value, v => Assert.Equal(1f, v));
        Assert.All(layer.RunningVar.Value, v => Assert.Equal(1f, v));
        Assert.All(layer.Beta.Value, v => Assert.Equal(0f, v));
    }
}
