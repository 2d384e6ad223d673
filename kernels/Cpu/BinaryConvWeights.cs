// The sign weights of a binary convolution, packed once for the XNOR GEMM, with the per-tap sums used to correct
// zero padding.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Binary convolution weights <c>[Filters][KernelH][KernelW][Channels]</c> (OHWI) as packed sign rows: filter o
/// is one GEMM column of <c>KernelH * KernelW * ChannelWords</c> words (each tap's channels start a new word,
/// tail bits zero) with <c>KernelH * KernelW * Channels</c> real bits. <see cref="TapSum"/> keeps
/// <c>Σ_c w[o, tap, c]</c> for every filter and tap. Built once per layer; building allocates, using and <see cref="Update"/> do not.
/// </summary>
public sealed class BinaryConvWeights
{
    private readonly int[] tapSums;
    private readonly ulong[] rows;

    private BinaryConvWeights(int filters, int kernelH, int kernelW, int channels, ulong[] rows)
    {
        Filters = filters;
        KernelH = kernelH;
        KernelW = kernelW;
        Channels = channels;
        this.rows = rows;
        int taps = kernelH * kernelW;
        Packed = XnorPackedB.Pack(rows, filters, taps * ChannelWords, taps * channels);
        tapSums = new int[filters * taps];
        ComputeTapSums();
    }

    /// <summary>Output channels (GEMM columns).</summary>
    public int Filters { get; }

    /// <summary>Kernel rows.</summary>
    public int KernelH { get; }

    /// <summary>Kernel columns.</summary>
    public int KernelW { get; }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Words per tap: <c>ceil(Channels / 64)</c>.</summary>
    public int ChannelWords => SignPacking.WordsFor(Channels);

    /// <summary>The weights as the B operand of <see cref="XnorGemm.Multiply"/>.</summary>
    public XnorPackedB Packed { get; }

    /// <summary><c>Σ_c w[filter, tap, c]</c> of the ±1 weights, tap = <c>ky * KernelW + kx</c>.</summary>
    public int TapSum(int filter, int tap) => tapSums[filter * KernelH * KernelW + tap];

    /// <summary>
    /// Re-packs the signs of new float weights <c>[Filters][KernelH][KernelW][Channels]</c> (OHWI) into this
    /// object in place, for weights that change every training step: afterwards it equals a fresh
    /// <see cref="FromFloats"/> of <paramref name="weights"/>, and nothing is allocated. A plan built on these
    /// weights with <see cref="BinaryPadding.Zero"/> must refresh its correction: call
    /// <see cref="BinaryConv2dPlan.UpdateWeights"/>, which calls this.
    /// </summary>
    public void Update(ReadOnlySpan<float> weights, KernelPath path = KernelPath.Auto)
    {
        int rowCount = Filters * KernelH * KernelW;
        KernelChecks.Length(weights, (long)rowCount * Channels, nameof(weights), "Filters * KernelH * KernelW * Channels floats (OHWI)");
        SignPacking.Pack(weights, rowCount, Channels, rows, path);
        Packed.Repack(rows);
        ComputeTapSums();
    }

    private void ComputeTapSums()
    {
        int words = ChannelWords, taps = KernelH * KernelW;
        for (int o = 0; o < Filters; o++)
            for (int tap = 0; tap < taps; tap++)
            {
                int negatives = 0;
                foreach (ulong word in rows.AsSpan((o * taps + tap) * words, words))
                    negatives += (int)ulong.PopCount(word);
                tapSums[o * taps + tap] = Channels - 2 * negatives;
            }
    }

    /// <summary>Packs the signs of float weights <c>[filters][kernelH][kernelW][channels]</c> (OHWI).</summary>
    public static BinaryConvWeights FromFloats(ReadOnlySpan<float> weights, int filters, int kernelH, int kernelW, int channels)
    {
        CheckSizes(filters, kernelH, kernelW, channels);
        int rows = filters * kernelH * kernelW;
        KernelChecks.Length(weights, (long)rows * channels, nameof(weights), "filters * kernelH * kernelW * channels floats (OHWI)");
        var packed = new ulong[rows * SignPacking.WordsFor(channels)];
        SignPacking.Pack(weights, rows, channels, packed);
        return new BinaryConvWeights(filters, kernelH, kernelW, channels, packed);
    }

    /// <summary>
    /// Takes already-packed sign rows <c>[filters][kernelH][kernelW][ceil(channels / 64)]</c> words, laid out as
    /// <see cref="SignPacking"/> writes them (bit 1 = -1, tail bits of each tap's last word zero).
    /// </summary>
    public static BinaryConvWeights FromPacked(ReadOnlySpan<ulong> packed, int filters, int kernelH, int kernelW, int channels)
    {
        CheckSizes(filters, kernelH, kernelW, channels);
        int words = SignPacking.WordsFor(channels), rows = filters * kernelH * kernelW;
        KernelChecks.Length(packed, (long)rows * words, nameof(packed), "filters * kernelH * kernelW * ceil(channels / 64) words");
        int tailBits = channels % 64;
        if (tailBits != 0)
        {
            ulong tailMask = ~0UL << tailBits;
            for (int row = 0; row < rows; row++)
                if ((packed[row * words + words - 1] & tailMask) != 0)
                    throw new ArgumentException(
                        $"Packed weight row {row} has bits set past channel {channels}; the tail bits of each tap's last word must be zero (pack with SignPacking).",
                        nameof(packed));
        }
        return new BinaryConvWeights(filters, kernelH, kernelW, channels, packed.Slice(0, rows * words).ToArray());
    }

    private static void CheckSizes(int filters, int kernelH, int kernelW, int channels)
    {
        KernelChecks.Positive(filters, nameof(filters));
        KernelChecks.Positive(kernelH, nameof(kernelH));
        KernelChecks.Positive(kernelW, nameof(kernelW));
        KernelChecks.Positive(channels, nameof(channels));
        if ((long)filters * kernelH * kernelW * SignPacking.WordsFor(channels) * XnorPackedB.PanelWidth > int.MaxValue)
            throw new ArgumentException(
                $"{filters} filters of {kernelH}x{kernelW}x{channels} are too many to pack; use fewer filters or channels.",
                nameof(filters));
    }
}
