// A k-bit 2-D convolution layer (2..8-bit weights and activations, bit-serial popcount forward, STE backward).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Low-bit convolution (DoReFa-Net, Zhou et al. 2016, with uniform weights): <c>y = conv(Qa(x), Qw(W))</c> with
/// <c>Qa(x) = round(clip(x, 0, 1) * (2^ka - 1)) / (2^ka - 1)</c> and
/// <c>Qw(W) = (2 round((clip(W, -1, 1) + 1) / 2 * (2^kw - 1)) - (2^kw - 1)) / (2^kw - 1)</c> (see <see cref="BitPlanes"/>),
/// zero padding (activation code 0). Computed for real on the codes: the forward pass builds the im2col of x,
/// quantizes and packs it into <c>ka</c> bit planes, re-packs the latent weights into <c>kw</c> planes and runs
/// <see cref="BitSerialGemm"/>; the exact integer dot products D come out as <c>D / ((2^ka - 1)(2^kw - 1))</c>.
/// When both widths are at most 4 bits, x is quantized into byte codes, laid out by a byte im2col and multiplied
/// with the weights' byte levels by <see cref="ByteGemm"/>, which gives the same D.
/// Backward, straight-through estimator: <c>dW = (dYᵀ · im2col(Qa(x))) ⊙ [|W| &lt;= 1]</c> and
/// <c>dx = col2im(dY · Qw(W)) ⊙ [0 &lt;= x &lt;= 1]</c>. Weights: <c>{name}.weight</c> [filters, kernel, kernel, channels],
/// role <see cref="ParameterRole.LatentWeight"/>, <c>kw</c> bits, no bias. Init: Glorot uniform.
/// </summary>
public sealed unsafe class QuantizedConv2dLayer : Layer
{
    private readonly Conv2dShape shape;
    private readonly Parameter weight;
    private readonly Parameter[] parameters;
    private readonly BitSerialPackedB? packedWeights;
    private readonly ulong[] packedColumns;
    private readonly BytePackedB? byteWeights;
    private readonly byte[] inputCodes, byteColumns;
    private readonly float[] scale, zeros;
    private readonly float[] quantizedInput, quantizedWeights;
    private readonly ConvGradient gradient;
    private readonly int rowWords;

    /// <summary>
    /// Creates the layer for <paramref name="batch"/> images of <paramref name="height"/> × <paramref name="width"/> ×
    /// <paramref name="channels"/>; <paramref name="weightBits"/> and <paramref name="activationBits"/> in 2..8.
    /// </summary>
    public QuantizedConv2dLayer(string name, int batch, int height, int width, int channels, int filters, int kernel, int stride, int pad,
        int weightBits, int activationBits, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * height * width * channels,
            (long)LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad).OutputPositions * filters, path, threads)
    {
        QuantizedOperands.CheckBits(name, weightBits, activationBits);
        shape = LayerShapes.Conv(name, batch, height, width, channels, filters, kernel, stride, pad);
        WeightBits = weightBits;
        ActivationBits = activationBits;
        weight = NewParameter("weight", [filters, kernel, kernel, channels], ParameterRole.LatentWeight, bits: weightBits);
        parameters = [weight];
        rowWords = BitPlanes.RowWords(PatchLength, activationBits);
        if (ByteGemm.Supports(activationBits, weightBits))
        {
            byteWeights = BytePackedB.Pack(weight.Value, filters, PatchLength, weightBits);
            inputCodes = new byte[InputLength];
            byteColumns = new byte[ByteIm2Col.Length(shape)];
            packedColumns = [];
        }
        else
        {
            packedWeights = BitSerialPackedB.Pack(weight.Value, filters, PatchLength, weightBits);
            packedColumns = new ulong[(long)shape.OutputPositions * rowWords];
            inputCodes = byteColumns = [];
        }
        scale = new float[filters];
        scale.AsSpan().Fill(1f / (((1 << activationBits) - 1) * ((1 << weightBits) - 1)));
        zeros = new float[filters];
        quantizedInput = new float[InputLength];
        quantizedWeights = new float[weight.Length];
        gradient = new ConvGradient(shape, signInput: false, padValue: 0f);
    }

    /// <summary>The convolution's geometry.</summary>
    public Conv2dShape Shape => shape;

    /// <summary>Bits per weight (2..8).</summary>
    public int WeightBits { get; }

    /// <summary>Bits per input activation (2..8).</summary>
    public int ActivationBits { get; }

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

    /// <summary>
    /// Quantizes and packs the im2col of x and the weights, then runs the bit-serial GEMM; at widths up to 4 bits,
    /// byte codes of x, their byte im2col and the byte GEMM instead.
    /// </summary>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        if (byteWeights is not null)
        {
            byteWeights.Repack(weight.Value);
            fixed (float* xPtr = x)
            fixed (byte* codesPtr = inputCodes)
            fixed (byte* columnsPtr = byteColumns)
            {
                var byteJob = new ByteJob { Shape = shape, X = xPtr, Codes = codesPtr, Columns = columnsPtr, Bits = ActivationBits, Path = Path };
                KernelParallel.For(Batch, Threads, ref byteJob);
            }
            ByteGemm.Multiply(byteColumns, shape.OutputPositions, PatchLength, ActivationBits, byteWeights,
                XnorOutput.ScaleBias(y, shape.Filters, scale, zeros), Path, Threads);
            return;
        }
        packedWeights!.Repack(weight.Value);
        int imagesPerChunk = gradient.ImagesPerChunk;
        fixed (float* xPtr = x)
        fixed (ulong* packedPtr = packedColumns)
        {
            var job = new PackJob
            {
                Shape = shape, X = xPtr, Packed = packedPtr, RowWords = rowWords, Bits = ActivationBits,
                ImagesPerChunk = imagesPerChunk, Columns = gradient.Columns, Path = Path,
            };
            KernelParallel.For((Batch + imagesPerChunk - 1) / imagesPerChunk, Threads, ref job);
        }
        BitSerialGemm.Multiply(packedColumns, shape.OutputPositions, rowWords, ActivationBits, packedWeights,
            XnorOutput.ScaleBias(y, shape.Filters, scale, zeros), Path, Threads);
    }

    /// <summary>
    /// The float reference of <see cref="Forward"/> (the simulation a float framework runs): the activation codes and
    /// weight levels as floats, im2col (zero padding: code 0), SGEMM, then one multiply by <c>1 / ((2^ka - 1)(2^kw - 1))</c> as the
    /// kernel's output transform does. The products and their sums are integers, exact in float while
    /// kernel² × channels × (2^ka - 1)(2^kw - 1) &lt;= 2^24, and then y equals <see cref="Forward"/>'s bit for bit (beyond that, within
    /// float rounding). Evaluation only.
    /// </summary>
    public override void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckForward(x, y);
        QuantizedOperands.ActivationCodes(x, quantizedInput, ActivationBits);
        QuantizedOperands.WeightLevels(weight.Value, quantizedWeights, WeightBits);
        ConvForward.Run(shape, quantizedInput, y, quantizedWeights, default, gradient.Columns, gradient.ImagesPerChunk,
            sign: false, padValue: 0f, Path, Threads);
        QuantizedOperands.Scale(y, scale[0]);
    }

    /// <summary>STE gradients of the latent weights, and dx unless it is empty; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        QuantizedOperands.Activations(x, quantizedInput, ActivationBits, Threads);
        if (!dx.IsEmpty)
            QuantizedOperands.Weights(weight.Value, quantizedWeights, WeightBits, Threads);
        gradient.Run(quantizedInput, dy, quantizedWeights, weight.Gradient, default, dx, Path, Threads);
        Elementwise.ClipGate(weight.Value, weight.Gradient, weight.Gradient, Threads);
        if (!dx.IsEmpty)
            QuantizedOperands.UnitGate(x, dx);
    }

    /// <summary>Item: one image quantized into byte codes, then its byte im2col (code 0 in the padding).</summary>
    private struct ByteJob : IParallelJob
    {
        public Conv2dShape Shape;
        public float* X;
        public byte* Codes, Columns;
        public int Bits;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            Conv2dShape s = Shape with { Batch = 1 };
            int imageInput = s.Height * s.Width * s.Channels;
            long imageColumns = ByteIm2Col.Length(s);
            var codes = new Span<byte>(Codes + (long)index * imageInput, imageInput);
            ActivationCodes.Quantize(new ReadOnlySpan<float>(X + (long)index * imageInput, imageInput), Bits, codes, Path);
            ByteIm2Col.Forward(s, codes, new Span<byte>(Columns + index * imageColumns, (int)imageColumns), threads: 1);
        }
    }

    /// <summary>Item: one chunk of images: float im2col (zero padding), then quantized into its rows of bit planes.</summary>
    private struct PackJob : IParallelJob
    {
        public Conv2dShape Shape;
        public float* X;
        public ulong* Packed;
        public int RowWords, Bits, ImagesPerChunk;
        public ScratchSlots Columns;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            Conv2dShape s = Shape;
            int k = s.KernelH * s.KernelW * s.Channels, imageRows = s.OutputHeight * s.OutputWidth;
            int imageInput = s.Height * s.Width * s.Channels;
            int first = index * ImagesPerChunk, images = Math.Min(ImagesPerChunk, s.Batch - first), rows = images * imageRows;
            int slot = Columns.Take();
            try
            {
                var cols = Columns.Buffer(slot).AsSpan(0, rows * k);
                LayerIm2Col.Run(s with { Batch = images }, new ReadOnlySpan<float>(X + (long)first * imageInput, images * imageInput), cols,
                    sign: false, padValue: 0f, threads: 1);
                var planes = new Span<ulong>(Packed + (long)first * imageRows * RowWords, rows * RowWords);
                BitPlanes.PackActivations(cols, rows, k, Bits, planes, RowWords, Path);
            }
            finally
            {
                Columns.Release(slot);
            }
        }
    }
}
