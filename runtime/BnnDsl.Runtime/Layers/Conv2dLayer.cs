// A float32 2-D convolution layer (im2col + SGEMM), forward and backward, for 32-bit layers of a network.
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
/// </summary>
public sealed class Conv2dLayer : Layer
{
    private readonly Conv2dShape shape;
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter[] parameters;
    private readonly int imagesPerChunk;
    private readonly ConvGradient gradient;

    /// <summary>Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>.</summary>
    public Conv2dLayer(string name, int batch, int height, int width, int channels, int filters, int kernel, int stride, int pad,
        bool bias = true, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * height * width * channels,
            (long)LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad).OutputPositions * filters, path, threads)
    {
        shape = LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad);
        weight = NewParameter("weight", [filters, kernel, kernel, channels], ParameterRole.Weight);
        this.bias = bias ? NewParameter("bias", [filters], ParameterRole.Bias) : null;
        parameters = this.bias is null ? [weight] : [weight, this.bias];
        gradient = new ConvGradient(shape, signInput: false, padValue: 0f);
        imagesPerChunk = gradient.ImagesPerChunk;
    }

    /// <summary>The convolution's geometry (batch, sizes, kernel, stride, padding).</summary>
    public Conv2dShape Shape => shape;

    /// <summary><c>{name}.weight</c> [filters, kernel, kernel, channels] (OHWI).</summary>
    public Parameter Weight => weight;

    /// <summary><c>{name}.bias</c> [filters], or null without bias.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    private int PatchLength => shape.KernelH * shape.KernelW * shape.Channels;

    /// <summary>He (Kaiming) uniform weights in [-sqrt(6 / fanIn), sqrt(6 / fanIn)], fanIn = kernel² × channels; bias 0.</summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        float bound = MathF.Sqrt(6f / PatchLength);
        FillUniform(weight.Value, bound, rng);
        bias?.Value.AsSpan().Clear();
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        ConvForward.Run(shape, x, y, weight.Value, bias is null ? default : bias.Value, gradient.Columns, imagesPerChunk,
            sign: false, padValue: 0f, Path, Threads);
    }

    /// <summary>Gradients of weight and bias, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        gradient.Run(x, dy, weight.Value, weight.Gradient, bias is null ? default : bias.Gradient, dx, Path, Threads);
    }
}
