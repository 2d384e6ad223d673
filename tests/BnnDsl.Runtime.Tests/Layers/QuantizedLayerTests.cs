// k-bit convolution and dense layers: forward equals the float product of the quantized operands (exact integers
// scaled once), backward equals the straight-through-estimator formula written out naively; no allocation per call.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class QuantizedLayerTests
{
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in KernelDispatch.Runnable)
            data.Add(path);
        return data;
    }

    /// <summary>(weight bits, activation bits).</summary>
    private static readonly (int W, int A)[] Widths = [(2, 2), (2, 4), (4, 2), (8, 8), (3, 5)];

    /// <summary>(batch, height, width, channels, filters, kernel, stride, pad).</summary>
    private static readonly int[][] Shapes =
    [
        [2, 6, 5, 1, 5, 3, 1, 1],
        [2, 5, 6, 3, 17, 3, 2, 1],
        [1, 7, 7, 37, 8, 5, 1, 2],
        [1, 5, 5, 100, 4, 3, 1, 1],
        [2, 6, 7, 70, 3, 2, 2, 0],
    ];

    /// <summary>DoReFa activation value round(clip(x, 0, 1) (2^k - 1)) / (2^k - 1), written out.</summary>
    private static double Qa(float x, int bits)
    {
        int levels = (1 << bits) - 1;
        float clipped = x < 0f ? 0f : x > 1f ? 1f : x;
        return MathF.Round(clipped * levels) / (double)levels;
    }

    /// <summary>Uniform weight value in [-1, 1]: 2 round((clip(w) + 1) / 2 (2^k - 1)) / (2^k - 1) - 1, written out.</summary>
    private static double Qw(float w, int bits)
    {
        int levels = (1 << bits) - 1;
        float clipped = w < -1f ? -1f : w > 1f ? 1f : w;
        return 2.0 * MathF.Round((clipped + 1f) / 2f * levels) / levels - 1.0;
    }

    private static double At(float[] x, int b, int iy, int ix, int ch, int h, int w, int c, int bits)
        => iy < 0 || iy >= h || ix < 0 || ix >= w ? 0.0 : Qa(x[((b * h + iy) * w + ix) * c + ch], bits);

    [Theory]
    [MemberData(nameof(Paths))]
    public void ConvolutionMatchesTheQuantizedFormulas(KernelPath path)
    {
        var random = new Random(20);
        foreach (var s in Shapes)
            foreach (var (wb, ab) in Widths)
            {
                var layer = new QuantizedConv2dLayer("qconv", s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], wb, ab, path);
                // Inputs partly outside [0, 1] and latent weights partly outside [-1, 1], so clips and gates matter.
                var x = Floats(random, layer.InputLength, 1.3f);
                var dy = Floats(random, layer.OutputLength);
                var sh = layer.Shape;
                int oh = sh.OutputHeight, ow = sh.OutputWidth, k = sh.KernelH, c = sh.Channels, h = sh.Height, wd = sh.Width;
                for (int step = 0; step < 2; step++)
                {
                    // A new step sees new weights, as after an optimizer step: the packed copy must follow.
                    Floats(random, layer.Weight.Length, 1.3f).CopyTo(layer.Weight.Value, 0);
                    var w = layer.Weight.Value;
                    var y = new float[layer.OutputLength];
                    var dx = new float[x.Length];
                    layer.Forward(x, y, training: true);
                    layer.Backward(x, y, dy, dx);
                    var yExpected = new double[y.Length];
                    var dw = new double[w.Length];
                    var dxExpected = new double[x.Length];
                    for (int b = 0; b < sh.Batch; b++)
                        for (int i = 0; i < oh; i++)
                            for (int j = 0; j < ow; j++)
                                for (int o = 0; o < sh.Filters; o++)
                                {
                                    int yi = ((b * oh + i) * ow + j) * sh.Filters + o;
                                    double g = dy[yi], sum = 0;
                                    for (int ky = 0; ky < k; ky++)
                                        for (int kx = 0; kx < k; kx++)
                                        {
                                            int iy = i * sh.StrideH - sh.PadH + ky, ix = j * sh.StrideW - sh.PadW + kx;
                                            for (int ch = 0; ch < c; ch++)
                                            {
                                                int wi = ((o * k + ky) * k + kx) * c + ch;
                                                double a = At(x, b, iy, ix, ch, h, wd, c, ab);
                                                sum += a * Qw(w[wi], wb);
                                                dw[wi] += g * a;
                                                if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                                                    dxExpected[((b * h + iy) * wd + ix) * c + ch] += g * Qw(w[wi], wb);
                                            }
                                        }
                                    yExpected[yi] = sum;
                                }
                    Gate(w, dw, x, dxExpected);
                    AssertForwardBackward(yExpected, y, 1e-6, dw, layer.Weight.Gradient, dxExpected, dx, $"{wb}/{ab}");
                }
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DenseMatchesTheQuantizedFormulas(KernelPath path)
    {
        var random = new Random(21);
        foreach (var (batch, inputs, outputs) in new[] { (3, 1, 5), (2, 37, 17), (4, 64, 16), (3, 100, 33), (2, 130, 8) })
            foreach (var (wb, ab) in Widths)
            {
                var layer = new QuantizedDenseLayer("qfc", batch, inputs, outputs, wb, ab, path);
                var w = layer.Weight.Value;
                var x = Floats(random, layer.InputLength, 1.3f);
                var dy = Floats(random, layer.OutputLength);
                for (int step = 0; step < 2; step++)
                {
                    Floats(random, w.Length, 1.3f).CopyTo(w, 0);
                    var y = new float[layer.OutputLength];
                    var dx = new float[x.Length];
                    layer.Forward(x, y, training: true);
                    layer.Backward(x, y, dy, dx);
                    var (yExpected, dw, dxExpected) = DenseFormulas(x, w, dy, batch, inputs, outputs, v => Qa(v, ab), v => Qw(v, wb));
                    Gate(w, dw, x, dxExpected);
                    AssertForwardBackward(yExpected, y, 1e-6, dw, layer.Weight.Gradient, dxExpected, dx, $"{wb}/{ab}");
                }
            }
    }

    /// <summary>The STE masks: dW where |W| &lt;= 1, dx where 0 &lt;= x &lt;= 1.</summary>
    private static void Gate(float[] w, double[] dw, float[] x, double[] dx)
    {
        for (int i = 0; i < dw.Length; i++)
            dw[i] = Math.Abs(w[i]) <= 1f ? dw[i] : 0;
        for (int i = 0; i < dx.Length; i++)
            dx[i] = x[i] >= 0f && x[i] <= 1f ? dx[i] : 0;
    }

    [Fact]
    public void WeightsAreLatentWithTheirBitsAndWidthsAreChecked()
    {
        var conv = new QuantizedConv2dLayer("q1", 1, 6, 6, 3, 4, 3, 1, 1, weightBits: 2, activationBits: 4);
        var dense = new QuantizedDenseLayer("q2", 1, 30, 20, weightBits: 8, activationBits: 2);
        Assert.Equal((ParameterRole.LatentWeight, 2), (conv.Weight.Role, conv.Weight.Bits));
        Assert.Equal((ParameterRole.LatentWeight, 8), (dense.Weight.Role, dense.Weight.Bits));
        Assert.Equal("q1.weight", Assert.Single(conv.Parameters).Name);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizedDenseLayer("q3", 1, 4, 4, 1, 2));
        Assert.Contains("'q3'", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizedConv2dLayer("q4", 1, 6, 6, 3, 4, 3, 1, 1, 2, 9));
    }

    [Fact]
    public void ForwardAndBackwardAllocateNothing()
    {
        var random = new Random(22);
        var conv = new QuantizedConv2dLayer("q1", 4, 12, 12, 37, 20, 3, 1, 1, 2, 2);
        var dense = new QuantizedDenseLayer("q2", 4, 150, 10, 4, 2);
        foreach (Layer layer in new Layer[] { conv, dense })
        {
            layer.Initialize(random);
            var x = Floats(random, layer.InputLength, 1.2f);
            var y = new float[layer.OutputLength];
            var dy = Floats(random, layer.OutputLength);
            var dx = new float[x.Length];
            Assert.Equal(0, AllocatedBytes(() =>
            {
                layer.Forward(x, y, training: true);
                layer.Backward(x, y, dy, dx);
            }));
        }
    }
}
