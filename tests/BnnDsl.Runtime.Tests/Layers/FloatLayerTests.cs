// Float convolution and dense layers: forward against naive loops, backward against finite differences.
using BnnDsl.Runtime.Layers;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class FloatLayerTests
{
    /// <summary>Naive convolution with zero padding: [batch][oh][ow][filters].</summary>
    internal static double[] NaiveConv(float[] x, float[] w, float[]? bias, int batch, int h, int wd, int c, int filters, int k, int stride, int pad)
    {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        var y = new double[batch * oh * ow * filters];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < filters; o++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = i * stride - pad + ky, ix = j * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                    continue;
                                for (int ch = 0; ch < c; ch++)
                                    sum += (double)x[((b * h + iy) * wd + ix) * c + ch] * w[((o * k + ky) * k + kx) * c + ch];
                            }
                        y[((b * oh + i) * ow + j) * filters + o] = sum;
                    }
        return y;
    }

    [Theory]
    [InlineData(2, 7, 6, 3, 5, 3, 1, 1, true)]
    [InlineData(3, 9, 9, 1, 8, 5, 1, 0, true)]
    [InlineData(2, 8, 7, 37, 9, 3, 2, 1, false)]
    [InlineData(1, 5, 5, 4, 3, 1, 1, 0, true)]
    public void ConvolutionForwardMatchesANaiveLoop(int batch, int h, int w, int c, int filters, int k, int stride, int pad, bool bias)
    {
        var random = new Random(1);
        var layer = new Conv2dLayer("conv", batch, h, w, c, filters, k, stride, pad, bias);
        layer.Initialize(random);
        if (bias)
            layer.Bias!.Value.AsSpan().Fill(0.25f);
        var x = Floats(random, layer.InputLength);
        var y = new float[layer.OutputLength];
        layer.Forward(x, y, training: true);
        var expected = NaiveConv(x, layer.Weight.Value, layer.Bias?.Value, batch, h, w, c, filters, k, stride, pad);
        AssertClose([.. expected.Select(v => (float)v)], y, 1e-4, 1e-5, "y");
    }

    [Theory]
    [InlineData(2, 6, 5, 3, 4, 3, 1, 1)]
    [InlineData(2, 7, 7, 2, 3, 5, 2, 2)]
    [InlineData(3, 6, 6, 5, 6, 1, 1, 0)]
    [InlineData(2, 6, 6, 1, 12, 3, 1, 1)]
    public void ConvolutionBackwardMatchesFiniteDifferences(int batch, int h, int w, int c, int filters, int k, int stride, int pad)
    {
        var random = new Random(2);
        var layer = new Conv2dLayer("conv", batch, h, w, c, filters, k, stride, pad);
        layer.Initialize(random);
        Floats(random, filters).CopyTo(layer.Bias!.Value, 0);
        CheckGradients(layer, Floats(random, layer.InputLength), random);
    }

    [Fact]
    public void ConvolutionInManyChunksMatchesNaiveLoops()
    {
        // One image of 64 x 64 x 8 (k 3) fills a chunk of the im2col, and 10 images make groups of 1 and 2 images,
        // so the backward pass runs in several groups, some of several chunks.
        var random = new Random(3);
        var layer = new Conv2dLayer("conv", 10, 64, 64, 8, 4, 3, 1, 1);
        layer.Initialize(random);
        var x = Floats(random, layer.InputLength);
        var dy = Floats(random, layer.OutputLength);
        var dx = new float[x.Length];
        var y = new float[layer.OutputLength];
        layer.Forward(x, y, training: true);
        var expected = NaiveConv(x, layer.Weight.Value, layer.Bias!.Value, 10, 64, 64, 8, 4, 3, 1, 1);
        AssertClose([.. expected.Select(v => (float)v)], y, 1e-4, 1e-5, "y");
        layer.Backward(x, default, dy, dx);
        var naive = NaiveConvBackward(x, dy, layer.Weight.Value, 10, 64, 64, 8, 4, 3, 1, 1);
        AssertClose([.. naive.Dw.Select(v => (float)v)], layer.Weight.Gradient, 1e-3, 1e-3, "dW");
        AssertClose([.. naive.Dx.Select(v => (float)v)], dx, 1e-3, 1e-4, "dx");
        var db = new float[4];
        for (int i = 0; i < dy.Length; i++)
            db[i % 4] += dy[i];
        AssertClose(db, layer.Bias!.Gradient, 1e-3, 1e-3, "db");
    }

    [Fact]
    public void EmptyDxSkipsTheInputGradientOnly()
    {
        var random = new Random(4);
        var layer = new Conv2dLayer("conv", 2, 6, 6, 3, 4, 3, 1, 1);
        layer.Initialize(random);
        var x = Floats(random, layer.InputLength);
        var dy = Floats(random, layer.OutputLength);
        layer.Forward(x, new float[layer.OutputLength], training: true);
        layer.Backward(x, default, dy, new float[x.Length]);
        var withDx = layer.Weight.Gradient.ToArray();
        layer.Backward(x, default, dy, Span<float>.Empty);
        Assert.Equal(withDx, layer.Weight.Gradient);
    }

    [Fact]
    public void WrongLengthsNameTheLayerAndBothLengths()
    {
        var layer = new Conv2dLayer("conv1", 2, 6, 6, 3, 4, 3, 1, 1);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(new float[5], new float[layer.OutputLength], true));
        Assert.Contains("conv1", error.Message);
        Assert.Contains("5", error.Message);
        Assert.Contains(layer.InputLength.ToString(), error.Message);
        Assert.Equal("x", error.ParamName);
        var shapeError = Assert.Throws<ArgumentException>(() => new Conv2dLayer("conv2", 1, 3, 3, 1, 1, 5, 1, 0));
        Assert.Contains("conv2", shapeError.Message);
    }

    [Fact]
    public void ParametersAreNamedAndShaped()
    {
        var conv = new Conv2dLayer("conv1", 2, 6, 6, 3, 4, 3, 1, 1);
        Assert.Equal(["conv1.weight", "conv1.bias"], conv.Parameters.Select(p => p.Name));
        Assert.Equal([4, 3, 3, 3], conv.Weight.Shape);
        var dense = new DenseLayer("fc", 2, 10, 7, bias: false);
        Assert.Equal(["fc.weight"], dense.Parameters.Select(p => p.Name));
        Assert.Equal([7, 10], dense.Weight.Shape);
    }

    [Fact]
    public void DenseForwardMatchesANaiveLoopAndBackwardMatchesFiniteDifferences()
    {
        var random = new Random(5);
        var layer = new DenseLayer("fc", 3, 37, 11);
        layer.Initialize(random);
        Floats(random, 11).CopyTo(layer.Bias!.Value, 0);
        var x = Floats(random, layer.InputLength);
        var y = new float[layer.OutputLength];
        layer.Forward(x, y, training: true);
        var expected = new float[y.Length];
        for (int b = 0; b < 3; b++)
            for (int o = 0; o < 11; o++)
            {
                double sum = layer.Bias.Value[o];
                for (int i = 0; i < 37; i++)
                    sum += (double)x[b * 37 + i] * layer.Weight.Value[o * 37 + i];
                expected[b * 11 + o] = (float)sum;
            }
        AssertClose(expected, y, 1e-4, 1e-5, "y");
        CheckGradients(layer, x, random);
    }

    internal static (double[] Dw, double[] Dx) NaiveConvBackward(float[] x, float[] dy, float[] w, int batch, int h, int wd, int c, int filters, int k, int stride, int pad)
    {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        var dw = new double[w.Length];
        var dx = new double[x.Length];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < filters; o++)
                    {
                        double g = dy[((b * oh + i) * ow + j) * filters + o];
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = i * stride - pad + ky, ix = j * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                    continue;
                                for (int ch = 0; ch < c; ch++)
                                {
                                    int xi = ((b * h + iy) * wd + ix) * c + ch, wi = ((o * k + ky) * k + kx) * c + ch;
                                    dw[wi] += g * x[xi];
                                    dx[xi] += g * w[wi];
                                }
                            }
                    }
        return (dw, dx);
    }
}
