// A k-bit fully connected layer (2..8-bit weights and activations, bit-serial popcount forward, STE backward).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Low-bit dense layer: <c>y[b, o] = Σ_i Qa(x[b, i]) * Qw(W[o, i])</c> with the quantizers of
/// <see cref="QuantizedConv2dLayer"/>, computed for real: x is quantized and packed into <c>ka</c> bit planes, the
/// latent weights are re-packed into <c>kw</c> planes and <see cref="BitSerialGemm"/> gives the exact integer dot
/// products D, written as <c>D / ((2^ka - 1)(2^kw - 1))</c>; when both widths are at most 4 bits, x becomes byte
/// codes and the weights byte levels for <see cref="ByteGemm"/>, which gives the same D. Backward, straight-through estimator:
/// <c>dW = (dYᵀ · Qa(x)) ⊙ [|W| &lt;= 1]</c>, <c>dx = (dY · Qw(W)) ⊙ [0 &lt;= x &lt;= 1]</c>. Weights:
/// <c>{name}.weight</c> [outputs, inputs], role <see cref="ParameterRole.LatentWeight"/>, <c>kw</c> bits, no bias.
/// Init: Glorot uniform, a = sqrt(6 / (inputs + outputs)).
/// </summary>
public sealed class QuantizedDenseLayer : Layer
{
    private readonly Parameter weight;
    private readonly Parameter[] parameters;
    private readonly BitSerialPackedB? packedWeights;
    private readonly ulong[] packedInput;
    private readonly BytePackedB? byteWeights;
    private readonly byte[] inputCodes;
    private readonly float[] scale, zeros;
    private readonly float[] quantizedInput, quantizedWeights;
    private readonly int rowWords;

    /// <summary>Creates the layer for <paramref name="batch"/> vectors of <paramref name="inputs"/> floats; both widths in 2..8.</summary>
    public QuantizedDenseLayer(string name, int batch, int inputs, int outputs, int weightBits, int activationBits,
        KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * inputs, (long)batch * outputs, path, threads)
    {
        QuantizedOperands.CheckBits(name, weightBits, activationBits);
        Inputs = inputs;
        Outputs = outputs;
        WeightBits = weightBits;
        ActivationBits = activationBits;
        weight = NewParameter("weight", [outputs, inputs], ParameterRole.LatentWeight, bits: weightBits);
        parameters = [weight];
        rowWords = BitPlanes.RowWords(inputs, activationBits);
        if (ByteGemm.Supports(activationBits, weightBits))
        {
            byteWeights = BytePackedB.Pack(weight.Value, outputs, inputs, weightBits);
            inputCodes = new byte[(long)batch * inputs];
            packedInput = [];
        }
        else
        {
            packedWeights = BitSerialPackedB.Pack(weight.Value, outputs, inputs, weightBits);
            packedInput = new ulong[(long)batch * rowWords];
            inputCodes = [];
        }
        scale = new float[outputs];
        scale.AsSpan().Fill(1f / (((1 << activationBits) - 1) * ((1 << weightBits) - 1)));
        zeros = new float[outputs];
        quantizedInput = new float[InputLength];
        quantizedWeights = new float[weight.Length];
    }

    /// <summary>Inputs per sample.</summary>
    public int Inputs { get; }

    /// <summary>Outputs per sample.</summary>
    public int Outputs { get; }

    /// <summary>Bits per weight (2..8).</summary>
    public int WeightBits { get; }

    /// <summary>Bits per input activation (2..8).</summary>
    public int ActivationBits { get; }

    /// <summary><c>{name}.weight</c>: latent float weights [outputs, inputs].</summary>
    public Parameter Weight => weight;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>Glorot uniform latent weights in [-a, a], a = sqrt(6 / (inputs + outputs)).</summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        float bound = MathF.Sqrt(6f / (Inputs + Outputs));
        FillUniform(weight.Value, bound, rng);
    }

    /// <summary>Quantizes and packs x and the weights, then runs the byte GEMM (both widths up to 4 bits) or the bit-serial GEMM.</summary>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        var output = XnorOutput.ScaleBias(y, Outputs, scale, zeros);
        if (byteWeights is not null)
        {
            byteWeights.Repack(weight.Value);
            ActivationCodes.Quantize(x[..inputCodes.Length], ActivationBits, inputCodes, Path);
            ByteGemm.Multiply(inputCodes, Batch, Inputs, ActivationBits, byteWeights, output, Path, Threads);
            return;
        }
        packedWeights!.Repack(weight.Value);
        BitPlanes.PackActivations(x, Batch, Inputs, ActivationBits, packedInput, rowWords, Path);
        BitSerialGemm.Multiply(packedInput, Batch, rowWords, ActivationBits, packedWeights, output, Path, Threads);
    }

    /// <summary>
    /// The float reference of <see cref="Forward"/> (the simulation a float framework runs): the activation codes and
    /// weight levels as floats, SGEMM, then one multiply by <c>1 / ((2^ka - 1)(2^kw - 1))</c> as the
    /// kernel's output transform does. The products and their sums are integers, exact in float while
    /// inputs × (2^ka - 1)(2^kw - 1) &lt;= 2^24, and then y equals <see cref="Forward"/>'s bit for bit (beyond that, within
    /// float rounding). Evaluation only.
    /// </summary>
    public override void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckForward(x, y);
        QuantizedOperands.ActivationCodes(x, quantizedInput, ActivationBits);
        QuantizedOperands.WeightLevels(weight.Value, quantizedWeights, WeightBits);
        // y (batch × outputs) = codes (batch × inputs) · levelsᵀ
        Sgemm.Multiply(false, true, Batch, Outputs, Inputs, 1f, quantizedInput, Inputs, quantizedWeights, Inputs, 0f, y, Outputs, Path, Threads);
        QuantizedOperands.Scale(y, scale[0]);
    }

    /// <summary>STE gradients of the latent weights, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        QuantizedOperands.Activations(x, quantizedInput, ActivationBits, Threads);
        // dW (outputs × inputs) = dYᵀ (outputs × batch) · Qa(x) (batch × inputs), gated by |W| <= 1
        Sgemm.Multiply(true, false, Outputs, Inputs, Batch, 1f, dy, Outputs, quantizedInput, Inputs, 0f, weight.Gradient, Inputs, Path, Threads);
        Elementwise.ClipGate(weight.Value, weight.Gradient, weight.Gradient, Threads);
        if (dx.IsEmpty)
            return;
        // dx (batch × inputs) = dY (batch × outputs) · Qw(W) (outputs × inputs), gated by 0 <= x <= 1
        QuantizedOperands.Weights(weight.Value, quantizedWeights, WeightBits, Threads);
        Sgemm.Multiply(false, false, Batch, Inputs, Outputs, 1f, dy, Outputs, quantizedWeights, Inputs, 0f, dx, Inputs, Path, Threads);
        QuantizedOperands.UnitGate(x, dx);
    }
}
