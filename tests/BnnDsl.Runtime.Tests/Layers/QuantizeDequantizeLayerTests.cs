// Quantize-dequantize layers (9..31 bits and mixed widths on the float Conv2dLayer / DenseLayer, QuantizeLayer 9..32):
// forward equals the float product of the quantized operands, backward the straight-through-estimator formula written out.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class QuantizeDequantizeLayerTests
{
    /// <summary>(weight bits, activation bits): wide, mixed with 1 and 32, and both quantized.</summary>
    private static readonly (int W, int A)[] Widths = [(12, 12), (16, 9), (31, 24), (1, 32), (32, 1), (4, 32), (32, 16), (1, 8), (12, 1)];

    /// <summary>The operand value a <paramref name="bits"/>-bit activation multiplies with, written out per width.</summary>
    private static double Activation(float x, int bits) => bits switch
    {
        1 => Sign(x),
        32 => x,
        _ => UniformQuantizer.ActivationValue(x, bits),
    };

    private static double Weight(float w, int bits) => bits switch
    {
        1 => Sign(w),
        32 => w,
        _ => UniformQuantizer.WeightValue(w, bits),
    };

    private static bool ActivationPasses(float x, int bits) => bits switch
    {
        1 => Math.Abs(x) <= 1f,
        32 => true,
        _ => x >= 0f && x <= 1f,
    };

    /// <summary>
    /// Inputs and latent weights in [-1.3, 1.3] (so clips and gates matter) and output gradients drawn from
    /// <paramref name="random"/>, then one training forward and backward of <paramref name="layer"/>.
    /// </summary>
    private static (float[] X, float[] W, float[] Dy, float[] Y, float[] Dx) ForwardBackward(Layer layer, Parameter weight, Random random)
    {
        var x = Floats(random, layer.InputLength, 1.3f);
        var dy = Floats(random, layer.OutputLength);
        Floats(random, weight.Length, 1.3f).CopyTo(weight.Value, 0);
        var y = new float[layer.OutputLength];
        var dx = new float[x.Length];
        layer.Forward(x, y, training: true);
        layer.Backward(x, y, dy, dx);
        return (x, weight.Value, dy, y, dx);
    }

    [Theory]
    [InlineData(BinaryPadding.One)]
    [InlineData(BinaryPadding.Zero)]
    public void ConvolutionMultipliesTheQuantizedOperands(BinaryPadding padding)
    {
        var random = new Random(30);
        foreach (var (wb, ab) in Widths)
        {
            const int batch = 2, h = 6, wd = 5, c = 3, filters = 4, k = 3, stride = 1, pad = 1;
            var layer = new Conv2dLayer("qdq", batch, h, wd, c, filters, k, stride, pad, bias: false, weightBits: wb, activationBits: ab, padding: padding);
            Assert.Equal(wb == 32 ? ParameterRole.Weight : ParameterRole.LatentWeight, layer.Weight.Role);
            Assert.Equal(wb, layer.Weight.Bits);
            var (x, w, dy, y, dx) = ForwardBackward(layer, layer.Weight, random);

            double padValue = ab == 1 && padding == BinaryPadding.One ? 1 : 0;
            int oh = layer.Shape.OutputHeight, ow = layer.Shape.OutputWidth;
            var yExpected = new double[y.Length];
            var dw = new double[w.Length];
            var dxExpected = new double[x.Length];
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        for (int o = 0; o < filters; o++)
                        {
                            int yi = ((b * oh + i) * ow + j) * filters + o;
                            double g = dy[yi], sum = 0;
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int iy = i * stride - pad + ky, ix = j * stride - pad + kx;
                                    bool inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                                    for (int ch = 0; ch < c; ch++)
                                    {
                                        int wi = ((o * k + ky) * k + kx) * c + ch, xi = ((b * h + iy) * wd + ix) * c + ch;
                                        double a = inside ? Activation(x[xi], ab) : padValue, q = Weight(w[wi], wb);
                                        sum += a * q;
                                        dw[wi] += g * a;
                                        if (inside)
                                            dxExpected[xi] += g * q;
                                    }
                                }
                            yExpected[yi] = sum;
                        }
            Gate(w, dw, wb, x, dxExpected, ab);
            AssertForwardBackward(yExpected, y, 1e-5, dw, layer.Weight.Gradient, dxExpected, dx, $"{wb}/{ab}");
        }
    }

    [Fact]
    public void DenseMultipliesTheQuantizedOperands()
    {
        var random = new Random(31);
        foreach (var (wb, ab) in Widths)
        {
            const int batch = 3, inputs = 37, outputs = 9;
            var layer = new DenseLayer("qdq", batch, inputs, outputs, bias: false, weightBits: wb, activationBits: ab);
            var (x, w, dy, y, dx) = ForwardBackward(layer, layer.Weight, random);
            var (yExpected, dw, dxExpected) = DenseFormulas(x, w, dy, batch, inputs, outputs, v => Activation(v, ab), v => Weight(v, wb));
            Gate(w, dw, wb, x, dxExpected, ab);
            AssertForwardBackward(yExpected, y, 1e-5, dw, layer.Weight.Gradient, dxExpected, dx, $"{wb}/{ab}");
        }
    }

    /// <summary>The STE gates: weights where |w| &lt;= 1 unless float, activations per width.</summary>
    private static void Gate(float[] w, double[] dw, int weightBits, float[] x, double[] dx, int activationBits)
    {
        for (int i = 0; i < w.Length; i++)
            if (weightBits != 32 && Math.Abs(w[i]) > 1f)
                dw[i] = 0;
        for (int i = 0; i < x.Length; i++)
            if (!ActivationPasses(x[i], activationBits))
                dx[i] = 0;
    }

    [Fact]
    public void QuantizedWeightsUseGlorotInitFloatWeightsHe()
    {
        var quantized = new DenseLayer("q", 1, 30, 10, bias: false, weightBits: 12, activationBits: 12);
        var floating = new DenseLayer("f", 1, 30, 10, bias: false);
        quantized.Initialize(new Random(1));
        floating.Initialize(new Random(1));
        Assert.InRange(quantized.Weight.Value.Max(Math.Abs), 0.3f, MathF.Sqrt(6f / 40));
        Assert.InRange(floating.Weight.Value.Max(Math.Abs), MathF.Sqrt(6f / 40), MathF.Sqrt(6f / 30));
    }

    [Theory]
    [InlineData(0, 12)]
    [InlineData(33, 12)]
    [InlineData(12, 0)]
    [InlineData(12, 64)]
    public void WidthsOutside1To32AreRefusedByName(int weightBits, int activationBits)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DenseLayer("fc7", 1, 4, 2, weightBits: weightBits, activationBits: activationBits));
        Assert.Contains("fc7", error.Message);
        Assert.Contains("1..32", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2dLayer("conv7", 1, 4, 4, 1, 2, 3, 1, 0, weightBits: weightBits, activationBits: activationBits));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(31)]
    [InlineData(32)]
    public void QuantizeLayerGivesTheExactCodesValuesAndTheGate(int bits)
    {
        var random = new Random(36);
        var layer = new QuantizeLayer("q", 3, 41, bits, threads: 2);
        var x = Floats(random, layer.InputLength, 1.5f).Select(v => v + 0.3f).ToArray();
        x[0] = float.NaN;
        x[1] = 0.5f;
        var dy = Floats(random, x.Length);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        layer.Forward(x, y, training: true);
        layer.Backward(x, y, dy, dx);
        for (int i = 1; i < x.Length; i++)
        {
            Assert.Equal(bits == 32 ? x[i] : UniformQuantizer.ActivationValue(x[i], bits), y[i]);
            Assert.Equal(bits == 32 || (x[i] >= 0 && x[i] <= 1) ? dy[i] : 0f, dx[i]);
        }
        Assert.Equal(bits == 32 ? float.NaN : 0f, y[0]);
        if (bits < 32)
            Assert.Equal((float)((1L << (bits - 1)) / (double)((1L << bits) - 1)), y[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizeLayer("q", 1, 4, 33));
    }
}
