// Pooling and activation layers: forward against naive loops, backward against finite differences or the
// straight-through formula; softmax cross-entropy against a double computation.
using BnnDsl.Runtime.Layers;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class PoolingAndActivationTests
{
    private static float[] NaivePool(float[] x, int batch, int h, int w, int c, int k, int stride, int pad, bool max)
    {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        var y = new float[batch * oh * ow * c];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        double acc = max ? double.NegativeInfinity : 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = i * stride - pad + ky, ix = j * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                    continue;
                                float v = x[((b * h + iy) * w + ix) * c + ch];
                                acc = max ? Math.Max(acc, v) : acc + v;
                            }
                        y[((b * oh + i) * ow + j) * c + ch] = (float)(max ? acc : acc / (k * k));
                    }
        return y;
    }

    [Theory]
    [InlineData(2, 8, 8, 64, 2, 2, 0)]
    [InlineData(3, 6, 4, 13, 2, 2, 0)]
    [InlineData(2, 6, 6, 5, 3, 3, 0)]
    [InlineData(2, 7, 6, 13, 3, 2, 1)]
    [InlineData(1, 5, 5, 3, 3, 1, 1)]
    [InlineData(3, 9, 7, 9, 2, 3, 0)]
    public void MaxPoolMatchesANaiveLoopAndFiniteDifferences(int batch, int h, int w, int c, int k, int stride, int pad)
    {
        var random = new Random(30);
        var layer = new MaxPoolLayer("pool", batch, h, w, c, k, stride, pad);
        var x = Floats(random, layer.InputLength, zeroShare: 0);
        var y = new float[layer.OutputLength];
        layer.Forward(x, y, training: true);
        Assert.Equal(NaivePool(x, batch, h, w, c, k, stride, pad, max: true), y);
        CheckGradients(layer, x, random, step: 1e-4f, absolute: 1e-2);
    }

    [Fact]
    public void MaxPoolTiesGoToTheFirstCellInWindowOrder()
    {
        var layer = new MaxPoolLayer("pool", 1, 2, 2, 9, 2, 2);
        var x = new float[36];
        x.AsSpan(9, 9).Fill(1f);
        x.AsSpan(18, 9).Fill(1f);
        layer.Forward(x, new float[9], training: true);
        var dx = new float[36];
        layer.Backward(x, default, Enumerable.Repeat(2f, 9).ToArray(), dx);
        Assert.All(dx.AsSpan(9, 9).ToArray(), v => Assert.Equal(2f, v));
        Assert.Equal(18f, dx.Sum());
    }

    [Theory]
    [InlineData(2, 8, 8, 16, 2, 2, 0)]
    [InlineData(2, 7, 6, 13, 3, 2, 1)]
    [InlineData(1, 6, 5, 3, 3, 1, 2)]
    public void AvgPoolCountsPaddingAndMatchesFiniteDifferences(int batch, int h, int w, int c, int k, int stride, int pad)
    {
        var random = new Random(31);
        var layer = new AvgPoolLayer("pool", batch, h, w, c, k, stride, pad);
        var x = Floats(random, layer.InputLength);
        var y = new float[layer.OutputLength];
        layer.Forward(x, y, training: true);
        AssertClose(NaivePool(x, batch, h, w, c, k, stride, pad, max: false), y, 1e-5, 1e-6, "y");
        CheckGradients(layer, x, random);
    }

    [Fact]
    public void GlobalAvgPoolMatchesANaiveLoopAndFiniteDifferences()
    {
        var random = new Random(32);
        var layer = new GlobalAvgPoolLayer("gap", 3, 4, 5, 11);
        var x = Floats(random, layer.InputLength);
        var y = new float[layer.OutputLength];
        layer.Forward(x, y, training: true);
        var expected = new float[y.Length];
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 11; c++)
            {
                double sum = 0;
                for (int p = 0; p < 20; p++)
                    sum += x[(b * 20 + p) * 11 + c];
                expected[b * 11 + c] = (float)(sum / 20);
            }
        AssertClose(expected, y, 1e-6, 1e-7, "y");
        CheckGradients(layer, x, random);
    }

    [Fact]
    public void SignAndReLUFollowTheirFormulas()
    {
        var random = new Random(33);
        int length = 70;
        var x = Floats(random, 2 * length, 2f, zeroShare: 0.1f);
        x[0] = -0f;
        x[1] = 1f;
        x[2] = -1f;
        var dy = Floats(random, x.Length);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        var sign = new SignLayer("sign", 2, length);
        sign.Forward(x, y, training: true);
        sign.Backward(x, y, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] >= 0 ? 1f : -1f, y[i]);
            Assert.Equal(Math.Abs(x[i]) <= 1f ? dy[i] : 0f, dx[i]);
        }
        var relu = new ReLULayer("relu", 2, length);
        relu.Forward(x, y, training: true);
        relu.Backward(x, y, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Math.Max(x[i], 0f), y[i]);
            Assert.Equal(x[i] > 0 ? dy[i] : 0f, dx[i]);
        }
    }

    [Fact]
    public void SoftmaxCrossEntropyMatchesADoubleComputation()
    {
        var random = new Random(34);
        const int batch = 5, classes = 7;
        var loss = new SoftmaxCrossEntropy(batch, classes);
        var logits = Floats(random, batch * classes, 4f);
        logits[0] = 80f; // large logits must not overflow
        int[] labels = [0, 3, 6, 2, 2];
        float value = loss.Forward(logits, labels);
        double expected = 0;
        int correct = 0;
        var dExpected = new float[logits.Length];
        for (int b = 0; b < batch; b++)
        {
            var row = logits.AsSpan(b * classes, classes).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            expected += Math.Log(sum) + max - row[labels[b]];
            if (Array.IndexOf(row, row.Max()) == labels[b])
                correct++;
            for (int j = 0; j < classes; j++)
                dExpected[b * classes + j] = (float)((Math.Exp(row[j] - max) / sum - (j == labels[b] ? 1 : 0)) / batch);
        }
        Assert.Equal(expected / batch, value, 1e-5);
        Assert.Equal(correct, loss.Correct);
        var d = new float[logits.Length];
        loss.Backward(d);
        AssertClose(dExpected, d, 1e-5, 1e-7, "dLogits");
    }

    [Fact]
    public void SoftmaxCrossEntropyRejectsLabelsOutOfRange()
    {
        var loss = new SoftmaxCrossEntropy(2, 10);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Forward(new float[20], [3, 10]));
        Assert.Contains("labels[1]", error.Message);
        Assert.Contains("10", error.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void QuantizeFollowsDoReFaAndItsStraightThroughGate(int bits)
    {
        var random = new Random(35);
        var layer = new QuantizeLayer("q", 3, 41, bits);
        var x = Floats(random, layer.InputLength, 1.5f).Select(v => v + 0.3f).ToArray();
        x[0] = 0f;
        x[1] = 1f;
        x[2] = float.NaN;
        var dy = Floats(random, x.Length);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        layer.Forward(x, y, training: true);
        layer.Backward(x, y, dy, dx);
        float levels = (1 << bits) - 1;
        for (int i = 3; i < x.Length; i++)
        {
            float expected = MathF.Round(Math.Clamp(x[i], 0f, 1f) * levels, MidpointRounding.ToEven) / levels;
            Assert.Equal(expected, y[i], 1e-6f);
            Assert.Equal(x[i] >= 0 && x[i] <= 1 ? dy[i] : 0f, dx[i]);
        }
        Assert.Equal(0f, y[0]);
        Assert.Equal(1f, y[1]);
        Assert.Equal(dy[1], dx[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizeLayer("q", 1, 4, 1));
    }
}
