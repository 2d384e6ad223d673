// A k-bit convolution's or dense layer's parameters prepared once for the packed path: weight bit planes in the
// bit-serial GEMM's panel layout (and byte panels for the byte GEMM at widths up to 4), the dot-product scale and
// an optional BatchNorm.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// What <see cref="PackedOps.BitSerialConv"/> and <see cref="PackedOps.BitSerialDense"/> read: the k-bit weights
/// (<see cref="BitSerialPackedB"/>, N outputs × K weights), the activation width, the scale
/// <c>1 / ((2^ka - 1)(2^kw - 1))</c> that turns the integer dots into the training layer's values, and the optional
/// BatchNorm as per-channel scale and shift. When both widths are at most 4 bits (<see cref="ByteGemm.Supports"/>),
/// the same weights are also repacked once into <see cref="BytePackedB"/> panels and the packed ops run the byte
/// GEMM, which gives the same integer dots at a cost that does not grow with the widths. The panels are built on
/// first use, not at load: a load allocates no more than the file asks for (the loader's fuzz bound), and the
/// panels (a byte per weight) exist only once a session runs the layer. Built once per model and shared read-only
/// (the first use is thread-safe).
/// </summary>
public sealed class BitSerialWeights
{
    private readonly bool usesBytes;
    private BytePackedB? byteWeights;

    /// <summary>
    /// Prepares <paramref name="weights"/> for <paramref name="activationBits"/>-bit inputs (2..8), with an optional
    /// BatchNorm <paramref name="scale"/> and <paramref name="shift"/> (both or neither, one per output).
    /// <paramref name="image"/> is the convolution's geometry (batch ignored; <c>default</c> for a dense layer).
    /// </summary>
    /// <exception cref="ArgumentException">The widths, the geometry or the BatchNorm arrays do not fit the weights.</exception>
    public BitSerialWeights(BitSerialPackedB weights, int activationBits, Conv2dShape image = default, float[]? scale = null, float[]? shift = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (activationBits is < BitPlanes.MinActivationBits or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits, "activationBits must lie in 2..8 (1-bit inputs use the XNOR ops).");
        if (image.Filters != 0 && (image.Filters != weights.N || image.KernelH * image.KernelW * image.Channels != weights.K))
            throw new ArgumentException($"The convolution has {image.Filters} filters of {image.KernelH * image.KernelW * image.Channels} weights but the packed weights hold {weights.N} of {weights.K}; pack this layer's weights.", nameof(image));
        if ((scale is null) != (shift is null) || (scale is not null && (scale.Length != weights.N || shift!.Length != weights.N)))
            throw new ArgumentException($"scale and shift must both be given, with one float per output ({weights.N}), or both be null.", nameof(scale));
        Weights = weights;
        ActivationBits = activationBits;
        usesBytes = ByteGemm.Supports(activationBits, weights.Bits);
        Image = image with { Batch = 1 };
        Scale = scale;
        Shift = shift;
        DotScale = new float[weights.N];
        DotScale.AsSpan().Fill(1f / (((1 << activationBits) - 1) * ((1 << weights.Bits) - 1)));
        Zeros = new float[weights.N];
    }

    /// <summary>The packed k-bit weights.</summary>
    public BitSerialPackedB Weights { get; }

    /// <summary>The same weights as byte levels for <see cref="ByteGemm"/> when both widths are at most 4 bits, else null (built on first use).</summary>
    public BytePackedB? ByteWeights => !usesBytes ? null : byteWeights ?? CreateByteWeights();

    private BytePackedB CreateByteWeights()
    {
        Interlocked.CompareExchange(ref byteWeights, BytePackedB.FromBitSerial(Weights), null);
        return byteWeights!;
    }

    /// <summary>Bits per input activation.</summary>
    public int ActivationBits { get; }

    /// <summary>The convolution's geometry for one image (all zero for a dense layer).</summary>
    public Conv2dShape Image { get; }

    /// <summary>Whether the weights are a convolution's (<see cref="Image"/> set).</summary>
    public bool IsConvolution => Image.Filters > 0;

    /// <summary>BatchNorm scale per output, or null.</summary>
    public float[]? Scale { get; }

    /// <summary>BatchNorm shift per output, or null.</summary>
    public float[]? Shift { get; }

    /// <summary>Words of one packed row of activations (all planes).</summary>
    public int RowWords => BitPlanes.RowWords(Weights.K, ActivationBits);

    /// <summary><c>1 / ((2^ka - 1)(2^kw - 1))</c> per output, as the training layers scale the dots.</summary>
    internal float[] DotScale { get; }

    /// <summary>Zero bias per output.</summary>
    internal float[] Zeros { get; }
}
