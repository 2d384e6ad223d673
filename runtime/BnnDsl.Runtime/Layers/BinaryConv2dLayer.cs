// A binary 2-D convolution layer (1-bit weights and 1-bit activations, XNOR + popcount forward, STE backward).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Binary convolution (BinaryNet, Courbariaux et al. 2016; XNOR-Net, Rastegari et al. 2016, without scaling):
/// <c>y = conv(sign(x), sign(W))</c> with sign(0) = +1, computed for real with packed bits: the forward pass packs
/// the signs of x and of the latent weights W and runs the XNOR + popcount convolution (<see cref="BinaryConv2d"/>),
/// writing the integer dot products as floats. Padded cells read +1 (<see cref="BinaryPadding.One"/>) or 0
/// (<see cref="BinaryPadding.Zero"/>). Backward, straight-through estimator with clip 1: with s = sign(x) (pads as
/// in the forward pass) and Wb = sign(W), <c>dW = (dYᵀ · im2col(s)) ⊙ [|W| &lt;= 1]</c> and
/// <c>dx = col2im(dY · Wb) ⊙ [|x| &lt;= 1]</c>. Weights: <c>{name}.weight</c> [filters, kernel, kernel, channels],
/// role <see cref="ParameterRole.LatentWeight"/>, 1 bit, no bias. Init: Glorot uniform,
/// a = sqrt(6 / (fanIn + fanOut)).
/// </summary>
public sealed class BinaryConv2dLayer : Layer
{
    private readonly Conv2dShape shape;
    private readonly BinaryPadding padding;
    private readonly Parameter weight;
    private readonly Parameter[] parameters;
    private readonly BinaryConv2dPlan plan;
    private readonly ulong[] packedInput;
    private readonly ulong[] bitColumns;
    private readonly float[] ones, zeros;
    private readonly float[] signWeights;
    private readonly ConvGradient gradient;

    /// <summary>Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>.</summary>
    public BinaryConv2dLayer(string name, int batch, int height, int width, int channels, int filters, int kernel, int stride, int pad,
        BinaryPadding padding = BinaryPadding.One, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * height * width * channels,
            (long)LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad).OutputPositions * filters, path, threads)
    {
        if (padding is not (BinaryPadding.One or BinaryPadding.Zero))
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"Layer '{name}': unknown padding; use BinaryPadding.One or BinaryPadding.Zero.");
        shape = LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad);
        this.padding = padding;
        weight = NewParameter("weight", [filters, kernel, kernel, channels], ParameterRole.LatentWeight, bits: 1);
        parameters = [weight];
        plan = new BinaryConv2dPlan(shape, BinaryConvWeights.FromFloats(weight.Value, filters, kernel, kernel, channels), padding);
        packedInput = new ulong[BinaryConv2d.InputLength(shape)];
        bitColumns = new ulong[BinaryConv2d.ScratchLength(shape)];
        ones = new float[filters];
        ones.AsSpan().Fill(1f);
        zeros = new float[filters];
        signWeights = new float[weight.Length];
        gradient = new ConvGradient(shape, signInput: true, padValue: padding == BinaryPadding.One ? 1f : 0f);
    }

    /// <summary>The convolution's geometry.</summary>
    public Conv2dShape Shape => shape;

    /// <summary>The padding mode.</summary>
    public BinaryPadding Padding => padding;

    /// <summary><c>{name}.weight</c>: latent float weights [filters, kernel, kernel, channels] (OHWI).</summary>
    public Parameter Weight => weight;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    private int PatchLength => shape.KernelH * shape.KernelW * shape.Channels;

    /// <summary>Glorot uniform latent weights in [-a, a], a = sqrt(6 / (fanIn + fanOut)), fanIn = kernel² × channels, fanOut = kernel² × filters.</summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        float bound = MathF.Sqrt(6f / (PatchLength + shape.KernelH * shape.KernelW * shape.Filters));
        FillUniform(weight.Value, bound, rng);
    }

    /// <summary>Packs sign(x) and sign(W) and runs the XNOR + popcount convolution; y holds exact integers.</summary>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        plan.UpdateWeights(weight.Value, Path);
        SignPacking.Pack(x, Batch * shape.Height * shape.Width, shape.Channels, packedInput, Path);
        BinaryConv2d.Forward(packedInput, plan, bitColumns, XnorOutput.ScaleBias(y, shape.Filters, ones, zeros), Path, Threads);
    }

    /// <summary>
    /// The float reference of <see cref="Forward"/> (the simulation a float framework runs): sign(x) and sign(W) as
    /// float ±1 values, im2col with the padding's pad value, SGEMM. Every dot product is an integer of magnitude at
    /// most kernel² × channels, exact in float, so y equals <see cref="Forward"/>'s bit for bit. Evaluation only.
    /// </summary>
    public override void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckForward(x, y);
        Elementwise.Sign(weight.Value, signWeights, Threads);
        ConvForward.Run(shape, x, y, signWeights, default, gradient.Columns, gradient.ImagesPerChunk,
            sign: true, padValue: padding == BinaryPadding.One ? 1f : 0f, Path, Threads);
    }

    /// <summary>STE gradients of the latent weights, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (!dx.IsEmpty)
            Elementwise.Sign(weight.Value, signWeights, Threads);
        gradient.Run(x, dy, signWeights, weight.Gradient, default, dx, Path, Threads);
        Elementwise.ClipGate(weight.Value, weight.Gradient, weight.Gradient, Threads);
        if (!dx.IsEmpty)
            Elementwise.ClipGate(x, dx, dx, Threads);
    }
}
