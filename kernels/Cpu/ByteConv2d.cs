// k-bit convolution on byte activation codes without an im2col matrix: the byte GEMM's micro-kernel reads each output
// position's taps straight from a zero-padded code image, one kernel row (KernelW × Channels contiguous bytes) at a time.
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Convolution <c>D[(b, oh, ow), f] = Σ_(kh, kw, c) code[b, oh * StrideH - PadH + kh, ow * StrideW - PadW + kw, c] * level[f, (kh, kw, c)]</c>
/// of NHWC activation codes (<c>[0, 2^ka - 1]</c>, code 0 in the padding) with weight levels packed by
/// <see cref="BytePackedB"/> (K = KernelH × KernelW × Channels in (kh, kw, c) order, as <see cref="ByteIm2Col"/>
/// orders the columns): the dot products of <see cref="ByteIm2Col"/> followed by <see cref="ByteGemm"/>, without
/// the im2col matrix (9 times the input for a 3 × 3 kernel). The codes sit in a padded image
/// (<see cref="PaddedLength"/>: PadH zero rows above and below, PadW zero positions left and right), written by
/// <see cref="QuantizePadded"/>; in it, the taps of one kernel row of an output position are KernelW × Channels
/// contiguous bytes, which the micro-kernel reads in place (see <see cref="Supports"/>). Outputs: those of
/// <see cref="ByteGemm"/>, and for <see cref="XnorOutputKind.ScaleBias"/> an optional per-filter scale and shift
/// after the scaled dot (a BatchNorm in evaluation mode: multiply, round, add, round), so no second pass over the
/// output is needed. Work items and register tile as in <see cref="ByteGemm"/>; a call allocates nothing.
/// </summary>
public static unsafe class ByteConv2d
{
    /// <summary>
    /// Whether the kernel takes <paramref name="shape"/>: a kernel row of codes (KernelW × Channels bytes) must be a
    /// whole number of the 4-code groups the micro-kernel multiplies (else use <see cref="ByteIm2Col"/> and <see cref="ByteGemm"/>).
    /// </summary>
    public static bool Supports(Conv2dShape shape) => (long)shape.KernelW * shape.Channels % BytePackedB.GroupSize == 0;

    /// <summary>
    /// Most bytes of a weight panel (16 columns × K) for which <see cref="Prefers"/> picks this kernel: 20 KiB, which
    /// leaves room in a 32 KiB L1 data cache for the padded rows a tile reads (K up to 1280: 3 × 3 kernels over up to 142 channels).
    /// </summary>
    public const int PreferredPanelBytes = 20 * 1024;

    /// <summary>
    /// Whether this kernel is expected to beat <see cref="ByteIm2Col"/> + <see cref="ByteGemm"/> on
    /// <paramref name="shape"/>: a supported shape whose weight panel (16 × K bytes) fits in
    /// <see cref="PreferredPanelBytes"/>, so the padded rows a tile reads stay in L1 beside it. With larger panels
    /// the panel streaming through L1 evicts those rows, which the GEMM reading contiguous im2col rows copes with
    /// better (measured on Zen 3, 2 × 2 bits, against im2col + GEMM + a BatchNorm pass: 11 % faster at 64 channels,
    /// 1 to 2 % at 128, 8 to 15 % slower at 256 and 512).
    /// </summary>
    public static bool Prefers(Conv2dShape shape)
        => Supports(shape) && (long)BytePackedB.PanelWidth * shape.KernelH * shape.KernelW * shape.Channels <= PreferredPanelBytes;

    /// <summary>Bytes of the padded code images of <paramref name="shape"/>: <c>Batch × (Height + 2 PadH) × (Width + 2 PadW) × Channels</c>.</summary>
    public static long PaddedLength(Conv2dShape shape) => (long)shape.Batch * PaddedHeight(shape) * PaddedWidth(shape) * shape.Channels;

    /// <summary>
    /// Writes the <paramref name="bits"/>-bit codes (2..8, <see cref="ActivationCodes.Quantize"/>) of the
    /// <c>shape.Batch</c> NHWC images of <paramref name="input"/> into the padded layout, code 0 in the padding; rows
    /// of the padded images are split over <paramref name="threads"/> cores.
    /// </summary>
    public static void QuantizePadded(Conv2dShape shape, ReadOnlySpan<float> input, int bits, Span<byte> padded,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        shape.Validate();
        BitPlanes.CheckBits(bits, BitPlanes.MinActivationBits, nameof(bits));
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch × Height × Width × Channels");
        KernelChecks.Length(padded, PaddedLength(shape), nameof(padded), "PaddedLength(shape) bytes");
        fixed (float* inputPtr = input)
        fixed (byte* paddedPtr = padded)
        {
            var job = new QuantizeJob { Shape = shape, Input = inputPtr, Padded = paddedPtr, Bits = bits, Path = KernelDispatch.Resolve(path) };
            KernelParallel.For(shape.Batch * PaddedHeight(shape), threads, ref job);
        }
    }

    /// <summary>
    /// Computes the convolution of the padded codes <paramref name="padded"/> (<see cref="QuantizePadded"/>'s layout,
    /// <paramref name="activationBits"/> in 2..4) with <paramref name="weights"/> (N = Filters, K = KernelH × KernelW ×
    /// Channels) into <paramref name="output"/>, one row per output position (b, oh, ow). <paramref name="normScale"/>
    /// and <paramref name="normShift"/> (both empty, or one per filter with a <see cref="XnorOutputKind.ScaleBias"/>
    /// output) transform each <c>scale * dot + bias</c> once more: <c>value * normScale + normShift</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A code exceeds <c>2^activationBits - 1</c>, the shape is not supported, or a size does not fit.</exception>
    public static void Forward(Conv2dShape shape, ReadOnlySpan<byte> padded, int activationBits, BytePackedB weights, XnorOutput output,
        ReadOnlySpan<float> normScale = default, ReadOnlySpan<float> normShift = default, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        shape.Validate();
        if (!Supports(shape))
            throw new ArgumentException($"KernelW × Channels = {shape.KernelW * shape.Channels} is not a multiple of {BytePackedB.GroupSize}; "
                + "run ByteIm2Col and ByteGemm for this shape.", nameof(shape));
        ByteGemm.CheckActivationBits(activationBits);
        int k = shape.KernelH * shape.KernelW * shape.Channels;
        if (weights.N != shape.Filters || weights.K != k)
            throw new ArgumentException($"The weights hold {weights.N} filters of {weights.K} levels but the shape needs {shape.Filters} of {k}; pack this convolution's weights.", nameof(weights));
        KernelChecks.DotFitsInt32(k, activationBits, weights.Bits, nameof(weights), "split the channels");
        long paddedLength = PaddedLength(shape);
        KernelChecks.Length(padded, paddedLength, nameof(padded), "PaddedLength(shape) bytes");
        int m = shape.OutputPositions;
        PanelOutput.Validate(output, m, weights.N);
        if (!normScale.IsEmpty || !normShift.IsEmpty)
        {
            if (output.Kind != XnorOutputKind.ScaleBias)
                throw new ArgumentException("normScale and normShift apply to a ScaleBias output only; pass empty spans with this output.", nameof(normScale));
            KernelChecks.Length(normScale, weights.N, nameof(normScale), "one per filter");
            KernelChecks.Length(normShift, weights.N, nameof(normShift), "one per filter");
        }
        path = KernelDispatch.Resolve(path);

        fixed (byte* paddedPtr = padded)
        fixed (ulong* bPtr = weights.Data)
        fixed (int* ints = output.Ints)
        fixed (float* floats = output.Floats)
        fixed (ulong* bits = output.Bits)
        fixed (float* scale = output.Scale)
        fixed (float* bias = output.Bias)
        fixed (int* thresholds = output.Thresholds)
        fixed (float* norm = normScale)
        fixed (float* shift = normShift)
        {
            CheckCodes(paddedPtr, paddedLength, activationBits);
            int panels = weights.Panels;
            int rowsPerBlock = ByteGemm.RowsPerBlock(k, m, panels, threads);
            int rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;
            int paddedWidth = PaddedWidth(shape);
            var job = new ByteTileJob<PositionStarts>
            {
                Rows = new PositionStarts
                {
                    Padded = paddedPtr, ImageBytes = PaddedHeight(shape) * paddedWidth * shape.Channels,
                    PositionStrideH = shape.StrideH * paddedWidth * shape.Channels, PositionStrideW = shape.StrideW * shape.Channels,
                    OutputHeight = shape.OutputHeight, OutputWidth = shape.OutputWidth,
                },
                M = m, Segments = shape.KernelH, SegmentStride = paddedWidth * shape.Channels,
                SegmentGroups = shape.KernelW * shape.Channels / BytePackedB.GroupSize,
                Chunk = ByteGemm.Int16Groups(activationBits, weights.Bits),
                B = (sbyte*)(bPtr + weights.Start), PanelBytes = weights.PanelBytes, Panels = panels, RowsPerBlock = rowsPerBlock, Path = path,
                Output = new PanelOutput
                {
                    Kind = output.Kind, N = weights.N, Panels = panels, Stride = output.Stride, Ints = ints, Floats = floats,
                    Bits = bits, Scale = scale, Bias = bias, Thresholds = thresholds,
                    NormScale = normScale.IsEmpty ? null : norm, NormShift = normScale.IsEmpty ? null : shift,
                },
            };
            KernelParallel.For(rowBlocks * panels, threads, ref job);
        }
    }

    private static int PaddedHeight(Conv2dShape shape) => shape.Height + 2 * shape.PadH;

    private static int PaddedWidth(Conv2dShape shape) => shape.Width + 2 * shape.PadW;

    /// <summary>Throws when a byte of the padded images does not fit in <paramref name="bits"/> bits.</summary>
    private static void CheckCodes(byte* codes, long length, int bits)
    {
        int seen = 0;
        long i = 0;
        var any = Vector256<byte>.Zero;
        for (; i + 32 <= length; i += 32)
            any |= Vector256.Load(codes + i);
        for (; i < length; i++)
            seen |= codes[i];
        for (int lane = 0; lane < 32; lane++)
            seen |= any.GetElement(lane);
        if (seen >> bits != 0)
            throw new ArgumentException($"padded holds a code above {(1 << bits) - 1}, the largest {bits}-bit activation code.", "padded");
    }

    /// <summary>Item: one row of a padded image (image, padded row): zeros in the padding, codes elsewhere.</summary>
    private struct QuantizeJob : IParallelJob
    {
        public Conv2dShape Shape;
        public float* Input;
        public byte* Padded;
        public int Bits;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            var s = Shape;
            int paddedHeight = PaddedHeight(s), paddedWidth = PaddedWidth(s), c = s.Channels;
            int b = index / paddedHeight, row = index - b * paddedHeight, ih = row - s.PadH;
            byte* target = Padded + (long)index * paddedWidth * c;
            if (ih < 0 || ih >= s.Height)
            {
                new Span<byte>(target, paddedWidth * c).Clear();
                return;
            }
            new Span<byte>(target, s.PadW * c).Clear();
            ActivationCodes.Quantize(new ReadOnlySpan<float>(Input + ((long)b * s.Height + ih) * s.Width * c, s.Width * c), Bits,
                new Span<byte>(target + s.PadW * c, s.Width * c), Path);
            new Span<byte>(target + (s.PadW + s.Width) * c, s.PadW * c).Clear();
        }
    }

    /// <summary>
    /// Row r is output position r (image, oh, ow); it starts at the position's first tap in the padded images. A block's
    /// rows are found by stepping along output rows, not by a division per row.
    /// </summary>
    private struct PositionStarts : IByteRowStarts
    {
        public byte* Padded;
        public int ImageBytes, PositionStrideH, PositionStrideW, OutputHeight, OutputWidth;

        public readonly void Fill(int first, int count, byte** rows)
        {
            int positions = OutputHeight * OutputWidth;
            int image = first / positions, rest = first - image * positions;
            int oh = rest / OutputWidth, ow = rest - oh * OutputWidth;
            for (int r = 0; r < count; r++)
            {
                rows[r] = Padded + (long)image * ImageBytes + (long)oh * PositionStrideH + (long)ow * PositionStrideW;
                if (++ow == OutputWidth)
                {
                    ow = 0;
                    if (++oh == OutputHeight)
                    {
                        oh = 0;
                        image++;
                    }
                }
            }
        }
    }
}
