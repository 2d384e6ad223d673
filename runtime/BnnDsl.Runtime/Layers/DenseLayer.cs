// A float32 fully connected layer (SGEMM), forward and backward, for 32-bit layers of a network and, with quantized
// operands, for the quantize-dequantize layers (9..31 bits, mixed widths).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>y[b, o] = bias[o] + Σ_i x[b, i] * W[o, i]</c>, weights <c>[outputs, inputs]</c>; the input is each sample's
/// flat vector (NHWC flatten order). Backward: <c>dW = dYᵀ · x</c>, <c>db = Σ_b dY</c>, <c>dx = dY · W</c>.
/// Init: He (Kaiming) uniform, bound sqrt(6 / inputs), bias 0.
/// <para>
/// Quantize-dequantize (<c>weightBits</c> or <c>activationBits</c> below 32): <c>y = Qa(x) · Qw(W)ᵀ</c> with the
/// quantizers of <see cref="QuantizedOperands"/> (1 bit: sign; 2..31 bits: <see cref="UniformQuantizer"/>), computed
/// in float32 on the quantized values: the values are those of the k-bit layer, the speed that of the float one.
/// Backward, straight-through estimator: <c>dW = (dYᵀ · Qa(x)) ⊙ [|W| &lt;= 1]</c>, <c>dx = (dY · Qw(W)) ⊙ gate(x)</c>
/// with gate <c>|x| &lt;= 1</c> for 1-bit, <c>0 &lt;= x &lt;= 1</c> for 2..31-bit and none for 32-bit activations.
/// Quantized weights are latent (<see cref="ParameterRole.LatentWeight"/>, clipped to [-1, 1] by the optimizer) with
/// Glorot uniform init, a = sqrt(6 / (inputs + outputs)), as in the other quantized layers.
/// </para>
/// </summary>
public sealed class DenseLayer : Layer
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter[] parameters;
    private readonly float[] biasPartials;
    private readonly DequantizedOperands operands;

    /// <summary>
    /// Creates the layer for <paramref name="batch"/> vectors of <paramref name="inputs"/> floats;
    /// <paramref name="weightBits"/> and <paramref name="activationBits"/> (1..32, 32: float) quantize the operands.
    /// </summary>
    public DenseLayer(string name, int batch, int inputs, int outputs, bool bias = true, KernelPath path = KernelPath.Auto, int threads = 0,
        int weightBits = LayerKernels.FloatBits, int activationBits = LayerKernels.FloatBits)
        : base(name, batch, (long)batch * inputs, (long)batch * outputs, path, threads)
    {
        Inputs = inputs;
        Outputs = outputs;
        operands = new DequantizedOperands(name, InputLength, outputs * inputs, weightBits, activationBits);
        weight = operands.QuantizesWeights
            ? NewParameter("weight", [outputs, inputs], ParameterRole.LatentWeight, bits: weightBits)
            : NewParameter("weight", [outputs, inputs], ParameterRole.Weight);
        this.bias = bias ? NewParameter("bias", [outputs], ParameterRole.Bias) : null;
        parameters = this.bias is null ? [weight] : [weight, this.bias];
        biasPartials = new float[ColumnSums.PartialsLength(batch, outputs)];
    }

    /// <summary>Inputs per sample.</summary>
    public int Inputs { get; }

    /// <summary>Outputs per sample.</summary>
    public int Outputs { get; }

    /// <summary>Bits per weight (32: float).</summary>
    public int WeightBits => operands.WeightBits;

    /// <summary>Bits per input activation (32: float).</summary>
    public int ActivationBits => operands.ActivationBits;

    /// <summary><c>{name}.weight</c> [outputs, inputs].</summary>
    public Parameter Weight => weight;

    /// <summary><c>{name}.bias</c> [outputs], or null without bias.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>He (Kaiming) uniform weights in [-sqrt(6 / inputs), sqrt(6 / inputs)], quantized weights Glorot uniform; bias 0.</summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        float bound = MathF.Sqrt(6f / (operands.QuantizesWeights ? Inputs + Outputs : Inputs));
        FillUniform(weight.Value, bound, rng);
        bias?.Value.AsSpan().Clear();
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        var input = operands.QuantizeInput(x, Threads);
        var weights = operands.QuantizeWeights(weight.Value, Threads);
        float beta = 0f;
        if (bias is not null)
        {
            for (int b = 0; b < Batch; b++)
                bias.Value.CopyTo(y.Slice(b * Outputs, Outputs));
            beta = 1f;
        }
        // y (batch × outputs) = x (batch × inputs) · Wᵀ
        Sgemm.Multiply(false, true, Batch, Outputs, Inputs, 1f, input, Inputs, weights, Inputs, beta, y, Outputs, Path, Threads);
    }

    /// <summary>Gradients of weight and bias (STE-gated when quantized), and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        var input = operands.Input(x);
        if (bias is not null)
            ColumnSums.Sum(dy, Batch, Outputs, bias.Gradient, biasPartials, Threads);
        // dW (outputs × inputs) = dYᵀ (outputs × batch) · x (batch × inputs)
        Sgemm.Multiply(true, false, Outputs, Inputs, Batch, 1f, dy, Outputs, input, Inputs, 0f, weight.Gradient, Inputs, Path, Threads);
        if (!dx.IsEmpty)
            Sgemm.Multiply(false, false, Batch, Inputs, Outputs, 1f, dy, Outputs, operands.Weights(weight.Value), Inputs, 0f, dx, Inputs, Path, Threads);
        operands.Gate(weight, x, dx, Threads);
    }
}
