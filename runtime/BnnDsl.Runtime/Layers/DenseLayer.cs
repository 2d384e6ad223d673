// A float32 fully connected layer (SGEMM), forward and backward, for 32-bit layers of a network.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>y[b, o] = bias[o] + Σ_i x[b, i] * W[o, i]</c>, weights <c>[outputs, inputs]</c>; the input is each sample's
/// flat vector (NHWC flatten order). Backward: <c>dW = dYᵀ · x</c>, <c>db = Σ_b dY</c>, <c>dx = dY · W</c>.
/// Init: He (Kaiming) uniform, bound sqrt(6 / inputs), bias 0.
/// </summary>
public sealed class DenseLayer : Layer
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter[] parameters;
    private readonly float[] biasPartials;

    /// <summary>Creates the layer for <paramref name="batch"/> vectors of <paramref name="inputs"/> floats.</summary>
    public DenseLayer(string name, int batch, int inputs, int outputs, bool bias = true, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * inputs, (long)batch * outputs, path, threads)
    {
        Inputs = inputs;
        Outputs = outputs;
        weight = NewParameter("weight", [outputs, inputs], ParameterRole.Weight);
        this.bias = bias ? NewParameter("bias", [outputs], ParameterRole.Bias) : null;
        parameters = this.bias is null ? [weight] : [weight, this.bias];
        biasPartials = new float[ColumnSums.PartialsLength(batch, outputs)];
    }

    /// <summary>Inputs per sample.</summary>
    public int Inputs { get; }

    /// <summary>Outputs per sample.</summary>
    public int Outputs { get; }

    /// <summary><c>{name}.weight</c> [outputs, inputs].</summary>
    public Parameter Weight => weight;

    /// <summary><c>{name}.bias</c> [outputs], or null without bias.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>He (Kaiming) uniform weights in [-sqrt(6 / inputs), sqrt(6 / inputs)]; bias 0.</summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        float bound = MathF.Sqrt(6f / Inputs);
        FillUniform(weight.Value, bound, rng);
        bias?.Value.AsSpan().Clear();
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        float beta = 0f;
        if (bias is not null)
        {
            for (int b = 0; b < Batch; b++)
                bias.Value.CopyTo(y.Slice(b * Outputs, Outputs));
            beta = 1f;
        }
        // y (batch × outputs) = x (batch × inputs) · Wᵀ
        Sgemm.Multiply(false, true, Batch, Outputs, Inputs, 1f, x, Inputs, weight.Value, Inputs, beta, y, Outputs, Path, Threads);
    }

    /// <summary>Gradients of weight and bias, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (bias is not null)
            ColumnSums.Sum(dy, Batch, Outputs, bias.Gradient, biasPartials, Threads);
        // dW (outputs × inputs) = dYᵀ (outputs × batch) · x (batch × inputs)
        Sgemm.Multiply(true, false, Outputs, Inputs, Batch, 1f, dy, Outputs, x, Inputs, 0f, weight.Gradient, Inputs, Path, Threads);
        if (!dx.IsEmpty)
            Sgemm.Multiply(false, false, Batch, Inputs, Outputs, 1f, dy, Outputs, weight.Value, Inputs, 0f, dx, Inputs, Path, Threads);
    }
}
