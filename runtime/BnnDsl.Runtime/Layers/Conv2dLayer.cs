// A float32 2-D convolution layer (im2col + SGEMM), forward and backward, for 32-bit layers of a network and, with
// quantized operands, for the quantize-dequantize layers (9..31 bits, mixed widths).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Float convolution <c>y[b, oh, ow, o] = bias[o] + Σ_{kh, kw, c} x[b, oh*stride - pad + kh, ow*stride - pad + kw, c]
/// * W[o, kh, kw, c]</c> (zero padding), NHWC input <c>[batch][height][width][channels]</c>, OHWI weights, output
/// <c>[batch][outH][outW][filters]</c>. Backward: <c>dW = dYᵀ · im2col(x)</c>, <c>db = Σ dY</c>,
/// <c>dx = col2im(dY · W)</c>. The im2col matrix is processed in chunks of images that run in parallel, each on
/// one thread with a single-threaded SGEMM, so that a chunk stays in its thread's cache (backward: see
/// <see cref="ConvGradient"/>). Init: He (Kaiming) uniform, bound sqrt(6 / fanIn), bias 0.
/// <para>
/// Quantize-dequantize (<c>weightBits</c> or <c>activationBits</c> below 32): <c>y = conv(Qa(x), Qw(W))</c> with the
/// quantizers of <see cref="QuantizedOperands"/> (1 bit: sign; 2..31 bits: <see cref="UniformQuantizer"/>), computed
/// in float32 on the quantized values: the values are those of the k-bit layer, the speed that of the float one.
/// Padded cells read 0, or +1 for 1-bit activations with <see cref="BinaryPadding.One"/>. Backward, straight-through
/// estimator: <c>dW = (dYᵀ · im2col(Qa(x))) ⊙ [|W| &lt;= 1]</c>, <c>dx = col2im(dY · Qw(W)) ⊙ gate(x)</c> with gate
/// <c>|x| &lt;= 1</c> for 1-bit, <c>0 &lt;= x &lt;= 1</c> for 2..31-bit and none for 32-bit activations. Quantized
/// weights are latent (<see cref="ParameterRole.LatentWeight"/>, clipped to [-1, 1] by the optimizer) with
/// Glorot uniform init as in the other quantized layers.
/// </para>
/// </summary>
public sealed class Conv2dLayer : Layer
{
    private readonly Conv2dShape shape;
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter[] parameters;
    private readonly int imagesPerChunk;
    private readonly ConvGradient gradient;
    private readonly DequantizedOperands operands;

    /// <summary>
    /// Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> ×
    /// <paramref name="channels"/>; <paramref name="weightBits"/> and <paramref name="activationBits"/> (1..32, 32: float)
    /// quantize the operands, <paramref name="padding"/> is the pad value of 1-bit activations.
    /// </summary>
    public Conv2dLayer(string name, int batch, int height, int width, int channels, int filters, int kernel, int stride, int pad,
        bool bias = true, KernelPath path = KernelPath.Auto, int threads = 0,
        int weightBits = LayerKernels.FloatBits, int activationBits = LayerKernels.FloatBits, BinaryPadding padding = BinaryPadding.One)
        : base(name, batch, (long)batch * height * width * channels,
            (long)LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad).OutputPositions * filters, path, threads)
    {
        shape = LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad);
        operands = new DequantizedOperands(name, InputLength, filters * kernel * kernel * channels, weightBits, activationBits);
        weight = operands.QuantizesWeights
            ? NewParameter("weight", [filters, kernel, kernel, channels], ParameterRole.LatentWeight, bits: weightBits)
            : NewParameter("weight", [filters, kernel, kernel, channels], ParameterRole.Weight);
        this.bias = bias ? NewParameter("bias", [filters], ParameterRole.Bias) : null;
        parameters = this.bias is null ? [weight] : [weight, this.bias];
        float padValue = activationBits == 1 && padding == BinaryPadding.One ? 1f : 0f;
        gradient = new ConvGradient(shape, signInput: false, padValue);
        imagesPerChunk = gradient.ImagesPerChunk;
    }

    /// <summary>The convolution's geometry (batch, sizes, kernel, stride, padding).</summary>
    public Conv2dShape Shape => shape;

    /// <summary><c>{name}.weight</c> [filters, kernel, kernel, channels] (OHWI).</summary>
    public Parameter Weight => weight;

    /// <summary><c>{name}.bias</c> [filters], or null without bias.</summary>
    public Parameter? Bias => bias;

    /// <summary>Bits per weight (32: float).</summary>
    public int WeightBits => operands.WeightBits;

    /// <summary>Bits per input activation (32: float).</summary>
    public int ActivationBits => operands.ActivationBits;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    private int PatchLength => shape.KernelH * shape.KernelW * shape.Channels;

    /// <summary>
    /// He (Kaiming) uniform weights in [-sqrt(6 / fanIn), sqrt(6 / fanIn)], fanIn = kernel² × channels; quantized weights
    /// Glorot uniform, bound sqrt(6 / (fanIn + kernel² × filters)); bias 0.
    /// </summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        float bound = MathF.Sqrt(6f / (operands.QuantizesWeights ? PatchLength + shape.KernelH * shape.KernelW * shape.Filters : PatchLength));
        FillUniform(weight.Value, bound, rng);
        bias?.Value.AsSpan().Clear();
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        var input = operands.QuantizeInput(x, Threads);
        var weights = operands.QuantizeWeights(weight.Value, Threads);
        ConvForward.Run(shape, input, y, weights, bias is null ? default : bias.Value, gradient.Columns, imagesPerChunk,
            sign: false, padValue: gradient.PadValue, Path, Threads);
    }

    /// <summary>Gradients of weight and bias (STE-gated when quantized), and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        gradient.Run(operands.Input(x), dy, operands.Weights(weight.Value), weight.Gradient, bias is null ? default : bias.Gradient, dx, Path, Threads);
        operands.Gate(weight, x, dx, Threads);
    }
}
