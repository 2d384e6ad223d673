// Binary convolution and dense layers: forward equals the float convolution of sign(x) and sign(W) bit for bit;
// backward equals the straight-through-estimator formula written out naively.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class BinaryLayerTests
{
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in KernelDispatch.Runnable)
            data.Add(path);
        return data;
    }

    /// <summary>(batch, height, width, channels, filters, kernel, stride, pad).</summary>
    private static readonly int[][] Shapes =
    [
        [2, 6, 5, 1, 5, 3, 1, 1],
        [2, 6, 6, 1, 16, 3, 1, 1],
        [2, 5, 6, 3, 17, 3, 2, 1],
        [1, 7, 7, 37, 8, 5, 1, 2],
        [2, 6, 6, 64, 6, 3, 2, 1],
        [1, 5, 5, 100, 4, 3, 1, 1],
        [2, 6, 7, 37, 3, 2, 2, 0],
        [1, 8, 8, 64, 64, 5, 1, 0],
    ];

    private static float PadValue(BinaryPadding padding) => padding == BinaryPadding.One ? 1f : 0f;

    /// <summary>s = sign(x) at (b, iy, ix, ch), or the pad value outside the image.</summary>
    private static float SignAt(float[] x, int b, int iy, int ix, int ch, int h, int w, int c, float pad)
        => iy < 0 || iy >= h || ix < 0 || ix >= w ? pad : Sign(x[((b * h + iy) * w + ix) * c + ch]);

    private static BinaryConv2dLayer Build(Random random, int[] s, BinaryPadding padding, KernelPath path, out float[] x)
    {
        var layer = new BinaryConv2dLayer("bconv", s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], padding, path);
        // Latent weights partly outside [-1, 1] so the STE gate matters; inputs too.
        Floats(random, layer.Weight.Length, 1.5f).CopyTo(layer.Weight.Value, 0);
        x = Floats(random, layer.InputLength, 1.6f);
        return layer;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ConvolutionForwardEqualsTheFloatConvolutionOfSigns(KernelPath path)
    {
        var random = new Random(10);
        foreach (var s in Shapes)
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                var layer = Build(random, s, padding, path, out var x);
                var y = new float[layer.OutputLength];
                for (int step = 0; step < 2; step++)
                {
                    layer.Forward(x, y, training: true);
                    Assert.Equal(NaiveForward(layer, x), y);
                    // The next step sees new weights, as after an optimizer step: the packed copy must follow.
                    Floats(random, layer.Weight.Length, 1.5f).CopyTo(layer.Weight.Value, 0);
                }
            }
    }

    private static float[] NaiveForward(BinaryConv2dLayer layer, float[] x)
    {
        var sh = layer.Shape;
        int oh = sh.OutputHeight, ow = sh.OutputWidth, k = sh.KernelH, c = sh.Channels;
        float pad = PadValue(layer.Padding);
        var w = layer.Weight.Value;
        var y = new float[layer.OutputLength];
        for (int b = 0; b < sh.Batch; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < sh.Filters; o++)
                    {
                        float sum = 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                for (int ch = 0; ch < c; ch++)
                                    sum += SignAt(x, b, i * sh.StrideH - sh.PadH + ky, j * sh.StrideW - sh.PadW + kx, ch, sh.Height, sh.Width, c, pad)
                                        * Sign(w[((o * k + ky) * k + kx) * c + ch]);
                        y[((b * oh + i) * ow + j) * sh.Filters + o] = sum;
                    }
        return y;
    }

    [Fact]
    public void ConvolutionBackwardEqualsTheStraightThroughFormula()
    {
        var random = new Random(11);
        foreach (var s in Shapes)
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                var layer = Build(random, s, padding, KernelPath.Auto, out var x);
                var dy = Floats(random, layer.OutputLength);
                var dx = new float[x.Length];
                layer.Forward(x, new float[layer.OutputLength], training: true);
                layer.Backward(x, default, dy, dx);

                var sh = layer.Shape;
                int oh = sh.OutputHeight, ow = sh.OutputWidth, k = sh.KernelH, c = sh.Channels, h = sh.Height, wd = sh.Width;
                float pad = PadValue(padding);
                var w = layer.Weight.Value;
                var dw = new double[w.Length];
                var dxExpected = new double[x.Length];
                for (int b = 0; b < sh.Batch; b++)
                    for (int i = 0; i < oh; i++)
                        for (int j = 0; j < ow; j++)
                            for (int o = 0; o < sh.Filters; o++)
                            {
                                double g = dy[((b * oh + i) * ow + j) * sh.Filters + o];
                                for (int ky = 0; ky < k; ky++)
                                    for (int kx = 0; kx < k; kx++)
                                    {
                                        int iy = i * sh.StrideH - sh.PadH + ky, ix = j * sh.StrideW - sh.PadW + kx;
                                        for (int ch = 0; ch < c; ch++)
                                        {
                                            int wi = ((o * k + ky) * k + kx) * c + ch;
                                            dw[wi] += g * SignAt(x, b, iy, ix, ch, h, wd, c, pad);
                                            if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                                                dxExpected[((b * h + iy) * wd + ix) * c + ch] += g * Sign(w[wi]);
                                        }
                                    }
                            }
                for (int i = 0; i < dw.Length; i++)
                    dw[i] = Math.Abs(w[i]) <= 1f ? dw[i] : 0;
                for (int i = 0; i < dxExpected.Length; i++)
                    dxExpected[i] = Math.Abs(x[i]) <= 1f ? dxExpected[i] : 0;
                AssertClose([.. dw.Select(v => (float)v)], layer.Weight.Gradient, 1e-4, 1e-4, "dW");
                AssertClose([.. dxExpected.Select(v => (float)v)], dx, 1e-4, 1e-4, "dx");
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DenseForwardAndBackwardMatchTheFormulas(KernelPath path)
    {
        var random = new Random(12);
        foreach (var (batch, inputs, outputs) in new[] { (3, 1, 5), (2, 37, 17), (4, 64, 16), (3, 100, 33), (2, 130, 8) })
        {
            var layer = new BinaryDenseLayer("bfc", batch, inputs, outputs, path);
            var w = layer.Weight.Value;
            var x = Floats(random, layer.InputLength, 1.6f);
            var dy = Floats(random, layer.OutputLength);
            for (int step = 0; step < 2; step++)
            {
                Floats(random, w.Length, 1.5f).CopyTo(w, 0);
                var y = new float[layer.OutputLength];
                var dx = new float[x.Length];
                layer.Forward(x, y, training: true);
                layer.Backward(x, y, dy, dx);
                var yExpected = new float[y.Length];
                var dw = new float[w.Length];
                var dxExpected = new float[x.Length];
                for (int b = 0; b < batch; b++)
                    for (int o = 0; o < outputs; o++)
                    {
                        float sum = 0;
                        for (int i = 0; i < inputs; i++)
                        {
                            sum += Sign(x[b * inputs + i]) * Sign(w[o * inputs + i]);
                            dw[o * inputs + i] += dy[b * outputs + o] * Sign(x[b * inputs + i]);
                            dxExpected[b * inputs + i] += dy[b * outputs + o] * Sign(w[o * inputs + i]);
                        }
                        yExpected[b * outputs + o] = sum;
                    }
                for (int i = 0; i < dw.Length; i++)
                    dw[i] = Math.Abs(w[i]) <= 1f ? dw[i] : 0f;
                for (int i = 0; i < dxExpected.Length; i++)
                    dxExpected[i] = Math.Abs(x[i]) <= 1f ? dxExpected[i] : 0f;
                Assert.Equal(yExpected, y);
                AssertClose(dw, layer.Weight.Gradient, 1e-4, 1e-4, "dW");
                AssertClose(dxExpected, dx, 1e-4, 1e-4, "dx");
            }
        }
    }

    [Fact]
    public void WeightsAreOneBitLatentWithGlorotInit()
    {
        var conv = new BinaryConv2dLayer("b1", 1, 6, 6, 3, 4, 3, 1, 1);
        var dense = new BinaryDenseLayer("b2", 1, 30, 20);
        foreach (var p in new[] { conv.Weight, dense.Weight })
        {
            Assert.Equal(ParameterRole.LatentWeight, p.Role);
            Assert.Equal(1, p.Bits);
        }
        Assert.Equal("b1.weight", Assert.Single(conv.Parameters).Name);
        dense.Initialize(new Random(1));
        float bound = MathF.Sqrt(6f / 50f);
        Assert.All(dense.Weight.Value, v => Assert.InRange(v, -bound, bound));
        Assert.True(dense.Weight.Value.Max() > 0.8f * bound);
    }
}
