// Low-bit convolution over byte activation codes with the byte GEMM's micro-kernel reading the kernel taps in place
// (implicit im2col): no im2col matrix is written.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// <c>D[position, filter] = Σ_(kh, kw, c) code[input pixel of the tap, c] * level[filter, kh, kw, c]</c> for NHWC
/// activation codes of <c>activationBits</c> bits (one byte each, taps in the padding read code 0) and OHWI weights
/// packed by <see cref="BytePackedB"/> (K = KernelH × KernelW × Channels): the dot products <see cref="ByteGemm"/>
/// computes on the <see cref="ByteIm2Col"/> matrix, with the same outputs, exactness bound and work split. Each
/// 6-position tile reads each tap's Channels codes where they lie, so Channels must be a multiple of 4 (a group of
/// 4 codes never straddles two taps); other channel counts use <see cref="ByteIm2Col"/> and <see cref="ByteGemm"/>.
/// A call allocates nothing (the zero run for the padding lives in a buffer of the calling thread that grows to the
/// largest channel count seen).
/// </summary>
public static unsafe class ByteConv2d
{
    [ThreadStatic]
    private static byte[]? zeroBuffer;

    /// <summary>Whether <paramref name="shape"/> can run in place: Channels a multiple of 4.</summary>
    public static bool Supports(Conv2dShape shape) => shape.Channels % BytePackedB.GroupSize == 0;

    /// <summary>
    /// Computes the convolution of <paramref name="codes"/> (<c>shape.Batch</c> NHWC images) with
    /// <paramref name="weights"/> into <paramref name="output"/> (rows: output positions of all images, in order;
    /// <see cref="XnorOutput.Int32"/>, <see cref="XnorOutput.ScaleBias"/> or <see cref="XnorOutput.Threshold"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A code exceeds <c>2^activationBits - 1</c>, Channels is not a multiple of 4, or a size does not fit.</exception>
    public static void Forward(Conv2dShape shape, ReadOnlySpan<byte> codes, int activationBits, BytePackedB weights, XnorOutput output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        shape.Validate();
        if (!Supports(shape))
            throw new ArgumentException($"Channels is {shape.Channels}, not a multiple of 4; run ByteIm2Col and ByteGemm instead.", nameof(shape));
        if (weights.N != shape.Filters || weights.K != shape.KernelH * shape.KernelW * shape.Channels)
            throw new ArgumentException(
                $"The convolution has {shape.Filters} filters of {shape.KernelH * shape.KernelW * shape.Channels} weights but weights holds {weights.N} of {weights.K}; pack this layer's weights.",
                nameof(weights));
        if (activationBits is < ByteGemm.MinActivationBits or > ByteGemm.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits,
                $"activationBits must lie in {ByteGemm.MinActivationBits}..{ByteGemm.MaxBits} (wider codes use BitSerialGemm).");
        int pixels = shape.Batch * shape.Height * shape.Width;
        KernelChecks.Length(codes, (long)pixels * shape.Channels, nameof(codes), "Batch × Height × Width × Channels");
        int m = shape.OutputPositions;
        PanelOutput.Validate(output, m, weights.N);
        path = KernelDispatch.Resolve(path);

        if (zeroBuffer is null || zeroBuffer.Length < shape.Channels)
            zeroBuffer = new byte[Math.Max(shape.Channels, 2 * (zeroBuffer?.Length ?? 0))];
        fixed (byte* image = codes)
        fixed (byte* zeros = zeroBuffer)
        {
            ByteGemm.CheckCodes(image, pixels, shape.Channels, shape.Channels, activationBits, nameof(codes));
            var rows = new ByteRows
            {
                A = image, Taps = shape.KernelH * shape.KernelW, TapCodes = shape.Channels, IsConvolution = true,
                Shape = shape, Zeros = zeros,
            };
            ByteGemm.Run(rows, m, activationBits, weights, output, path, threads);
        }
    }
}
