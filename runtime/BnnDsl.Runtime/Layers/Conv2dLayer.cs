// A float32 2-D convolution layer (im2col + SGEMM), forward and backward, for 32-bit layers of a network.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Float convolution <c>y[b, oh, ow, o] = bias[o] + Σ_{kh, kw, c} x[b, oh*stride - pad + kh, ow*stride - pad + kw, c]
/// * W[o, kh, kw, c]</c> (zero padding), NHWC input <c>[batch][height][width][channels]</c>, OHWI weights, output
/// <c>[batch][outH][outW][filters]</c>. Backward: <c>dW = dYᵀ · im2col(x)</c>, <c>db = Σ dY</c>,
/// <c>dx = col2im(dY · W)</c>. The im2col matrix is processed in chunks of images of about
/// <see cref="ChunkFloats"/> floats, so it stays in cache. Init: He (Kaiming) uniform, bound sqrt(6 / fanIn), bias 0.
/// </summary>
public sealed class Conv2dLayer : Layer
{
    /// <summary>Target size of one chunk of the im2col matrix, in floats.</summary>
    internal const int ChunkFloats = 1 << 18;

    private readonly Conv2dShape shape;
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter[] parameters;
    private readonly float[] columns;
    private readonly float[] biasPartials;
    private readonly int imagesPerChunk;

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
        int imageColumns = shape.OutputHeight * shape.OutputWidth * PatchLength;
        imagesPerChunk = Math.Clamp(ChunkFloats / imageColumns, 1, batch);
        columns = new float[imagesPerChunk * imageColumns];
        biasPartials = new float[ColumnSums.PartialsLength(shape.OutputPositions, filters)];
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
        foreach (ref float w in weight.Value.AsSpan())
            w = (rng.NextSingle() * 2f - 1f) * bound;
        bias?.Value.AsSpan().Clear();
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        FloatConv2d.Forward(shape, x, weight.Value, bias is null ? default : bias.Value, y, columns, Path, Threads);
    }

    /// <summary>Gradients of weight and bias, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        int filters = shape.Filters, k = PatchLength, imageRows = shape.OutputHeight * shape.OutputWidth;
        int imageInput = shape.Height * shape.Width * shape.Channels;
        if (bias is not null)
            ColumnSums.Sum(dy, shape.OutputPositions, filters, bias.Gradient, biasPartials, Threads);
        for (int first = 0; first < Batch; first += imagesPerChunk)
        {
            int images = Math.Min(imagesPerChunk, Batch - first), rows = images * imageRows;
            var chunk = shape with { Batch = images };
            var cols = columns.AsSpan(0, rows * k);
            var dyChunk = dy.Slice(first * imageRows * filters, rows * filters);
            FloatConv2d.Im2Col(chunk, x.Slice(first * imageInput, images * imageInput), cols, Threads);
            // dW (filters × k) += dYᵀ (filters × rows) · cols (rows × k)
            Sgemm.Multiply(true, false, filters, k, rows, 1f, dyChunk, filters, cols, k, first == 0 ? 0f : 1f,
                weight.Gradient, k, Path, Threads);
            if (dx.IsEmpty)
                continue;
            // dcols (rows × k) = dY (rows × filters) · W (filters × k), then dx = col2im(dcols)
            Sgemm.Multiply(false, false, rows, k, filters, 1f, dyChunk, filters, weight.Value, k, 0f, cols, k, Path, Threads);
            FloatConv2d.Col2Im(chunk, cols, dx.Slice(first * imageInput, images * imageInput), Path, Threads);
        }
    }
}
