// A binary fully connected layer (1-bit weights and 1-bit activations, XNOR + popcount forward, STE backward).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Binary dense layer (BinaryNet, Courbariaux et al. 2016): <c>y[b, o] = Σ_i sign(x[b, i]) * sign(W[o, i])</c>
/// with sign(0) = +1, computed for real: the forward pass packs both signs and runs <see cref="XnorGemm"/>
/// (<c>K - 2 * popcount</c>), writing the integer dot products as floats. Backward, straight-through estimator
/// with clip 1: <c>dW = (dYᵀ · sign(x)) ⊙ [|W| &lt;= 1]</c>, <c>dx = (dY · sign(W)) ⊙ [|x| &lt;= 1]</c>.
/// Weights: <c>{name}.weight</c> [outputs, inputs], role <see cref="ParameterRole.LatentWeight"/>, 1 bit, no bias.
/// Init: Glorot uniform, a = sqrt(6 / (inputs + outputs)).
/// </summary>
public sealed class BinaryDenseLayer : Layer
{
    private readonly Parameter weight;
    private readonly Parameter[] parameters;
    private readonly ulong[] weightRows;
    private readonly XnorPackedB packedWeights;
    private readonly ulong[] packedInput;
    private readonly float[] ones, zeros;
    private readonly float[] signInput;
    private readonly float[] signWeights;
    private readonly int words;

    /// <summary>Creates the layer for <paramref name="batch"/> vectors of <paramref name="inputs"/> floats.</summary>
    public BinaryDenseLayer(string name, int batch, int inputs, int outputs, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * inputs, (long)batch * outputs, path, threads)
    {
        Inputs = inputs;
        Outputs = outputs;
        weight = NewParameter("weight", [outputs, inputs], ParameterRole.LatentWeight, bits: 1);
        parameters = [weight];
        words = SignPacking.WordsFor(inputs);
        weightRows = new ulong[outputs * words];
        packedWeights = XnorPackedB.Pack(weightRows, outputs, words, inputs);
        packedInput = new ulong[batch * words];
        ones = new float[outputs];
        ones.AsSpan().Fill(1f);
        zeros = new float[outputs];
        signInput = new float[batch * inputs];
        signWeights = new float[outputs * inputs];
    }

    /// <summary>Inputs per sample.</summary>
    public int Inputs { get; }

    /// <summary>Outputs per sample.</summary>
    public int Outputs { get; }

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

    /// <summary>Packs sign(x) and sign(W) and runs the XNOR GEMM; y holds exact integers.</summary>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        SignPacking.Pack(weight.Value, Outputs, Inputs, weightRows, Path);
        packedWeights.Repack(weightRows);
        SignPacking.Pack(x, Batch, Inputs, packedInput, Path);
        XnorGemm.Multiply(packedInput, Batch, words, packedWeights, XnorOutput.ScaleBias(y, Outputs, ones, zeros), default, Path, Threads);
    }

    /// <summary>
    /// The float reference of <see cref="Forward"/> (the simulation a float framework runs): sign(x) and sign(W) as
    /// float ±1 values, <c>y = sign(x) · sign(W)ᵀ</c> by SGEMM. Every dot product is an integer of magnitude at most
    /// <see cref="Inputs"/>, exact in float, so y equals <see cref="Forward"/>'s bit for bit. Evaluation only.
    /// </summary>
    public override void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckForward(x, y);
        Elementwise.Sign(x, signInput, Threads);
        Elementwise.Sign(weight.Value, signWeights, Threads);
        // y (batch × outputs) = sign(x) (batch × inputs) · sign(W)ᵀ
        Sgemm.Multiply(false, true, Batch, Outputs, Inputs, 1f, signInput, Inputs, signWeights, Inputs, 0f, y, Outputs, Path, Threads);
    }

    /// <summary>STE gradients of the latent weights, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        Elementwise.Sign(x, signInput, Threads);
        // dW (outputs × inputs) = dYᵀ (outputs × batch) · sign(x) (batch × inputs), gated by |W| <= 1
        Sgemm.Multiply(true, false, Outputs, Inputs, Batch, 1f, dy, Outputs, signInput, Inputs, 0f, weight.Gradient, Inputs, Path, Threads);
        Elementwise.ClipGate(weight.Value, weight.Gradient, weight.Gradient, Threads);
        if (dx.IsEmpty)
            return;
        // dx (batch × inputs) = dY (batch × outputs) · sign(W) (outputs × inputs), gated by |x| <= 1
        Elementwise.Sign(weight.Value, signWeights, Threads);
        Sgemm.Multiply(false, false, Batch, Inputs, Outputs, 1f, dy, Outputs, signWeights, Inputs, 0f, dx, Inputs, Path, Threads);
        Elementwise.ClipGate(x, dx, dx, Threads);
    }
}
