// The 1..4-bit weights (B operand) of the byte GEMM: odd signed levels, one sbyte each, repacked once into
// 16-column panels of 4-weight groups, the layout vpmaddubsw (and vpdpbusd) reads.
using System.Runtime.InteropServices;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// B of <see cref="ByteGemm"/>: N output columns of K weights of <see cref="Bits"/> bits (1..4), stored as their
/// integer levels <c>2q - (2^Bits - 1)</c> (codes q as in <see cref="BitPlanes"/>), one signed byte each. Panel p
/// holds columns 16p..16p+15 as <see cref="Groups"/> groups of 64 bytes: group g is <c>[16 columns][4 weights]</c>,
/// weights 4g..4g+3 of each column side by side, so one 32-byte load reads 4 weights of 8 columns. Columns past
/// <see cref="N"/> and weights past <see cref="K"/> are level 0, so they add nothing whatever A holds there. The
/// panels start on a 64-byte boundary of a pinned array. Packing allocates (once per layer); <see cref="Repack"/>
/// re-quantizes new float weights into the same panels without allocating.
/// </summary>
public sealed class BytePackedB
{
    /// <summary>Columns per panel.</summary>
    public const int PanelWidth = 16;

    /// <summary>Weights per group (the 4 bytes one vpmaddubsw pair of pairs sums).</summary>
    public const int GroupSize = 4;

    /// <summary>Most bits of a weight (and of an activation) the byte GEMM takes: see <see cref="ByteGemm"/>.</summary>
    public const int MaxBits = 4;

    /// <summary>Columns (output channels).</summary>
    public int N { get; }

    /// <summary>Weights per column (the reduction length).</summary>
    public int K { get; }

    /// <summary>Bits per weight, 1..4.</summary>
    public int Bits { get; }

    /// <summary>Groups of 4 weights per column: <c>ceil(K / 4)</c>.</summary>
    public int Groups { get; }

    /// <summary>Number of 16-column panels.</summary>
    public int Panels => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>Bytes of one panel.</summary>
    internal int PanelBytes => Groups * GroupSize * PanelWidth;

    /// <summary>The panels, from word <see cref="Start"/> on (pinned, so that word stays 64-byte aligned).</summary>
    internal ulong[] Data { get; }

    /// <summary>Index of the first (64-byte aligned) word of the panels in <see cref="Data"/>.</summary>
    internal int Start { get; }

    private BytePackedB(int n, int k, int bits)
    {
        N = n;
        K = k;
        Bits = bits;
        Groups = (k + GroupSize - 1) / GroupSize;
        long bytes = (long)Panels * PanelBytes;
        Data = AlignedWords.Allocate((bytes + 7) / 8, out int start);
        Start = start;
    }

    /// <summary>Quantizes <paramref name="n"/> rows of <paramref name="k"/> float weights (row-major) to <paramref name="bits"/> bits and packs them.</summary>
    public static BytePackedB Pack(ReadOnlySpan<float> weights, int n, int k, int bits)
    {
        CheckShape(n, k, bits);
        KernelChecks.Length(weights, (long)n * k, nameof(weights), "n rows of k floats");
        var packed = new BytePackedB(n, k, bits);
        packed.Repack(weights);
        return packed;
    }

    /// <summary>
    /// Packs <paramref name="n"/> rows of <paramref name="k"/> ready-made <paramref name="bits"/>-bit weight codes
    /// (level <c>2 * code - (2^bits - 1)</c>); throws when a code does not fit in <paramref name="bits"/> bits.
    /// </summary>
    public static BytePackedB PackCodes(ReadOnlySpan<byte> codes, int n, int k, int bits)
    {
        CheckShape(n, k, bits);
        KernelChecks.Length(codes, (long)n * k, nameof(codes), "n rows of k codes");
        var packed = new BytePackedB(n, k, bits);
        var panels = packed.Bytes;
        for (int col = 0; col < n; col++)
            for (int c = 0; c < k; c++)
            {
                byte code = codes[col * k + c];
                if (code >> bits != 0)
                    throw new ArgumentException($"codes holds {code}, above {(1 << bits) - 1}, the largest {bits}-bit code.", nameof(codes));
                panels[packed.Index(col, c)] = (byte)(sbyte)BitPlanes.WeightLevel(code, bits);
            }
        return packed;
    }

    /// <summary>
    /// The same weights as <paramref name="weights"/> (bit planes of the bit-serial GEMM) in byte panels, so both
    /// GEMMs give the same dot products; <paramref name="weights"/> must hold at most <see cref="MaxBits"/> bits.
    /// </summary>
    public static BytePackedB FromBitSerial(BitSerialPackedB weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Bits > MaxBits)
            throw new ArgumentOutOfRangeException(nameof(weights), weights.Bits,
                $"The weights hold {weights.Bits} bits; the byte GEMM takes at most {MaxBits} (use BitSerialGemm).");
        var packed = new BytePackedB(weights.N, weights.K, weights.Bits);
        var panels = packed.Bytes;
        Span<ulong> planes = stackalloc ulong[MaxBits];
        for (int col = 0; col < weights.N; col++)
            for (int w = 0; w < weights.KWords; w++)
            {
                for (int j = 0; j < weights.Bits; j++)
                    planes[j] = weights.PlaneWord(col, j, w);
                for (int c = w * 64; c < Math.Min(weights.K, w * 64 + 64); c++)
                {
                    int code = 0;
                    for (int j = 0; j < weights.Bits; j++)
                        code |= (int)((planes[j] >> (c & 63)) & 1) << j;
                    panels[packed.Index(col, c)] = (byte)(sbyte)BitPlanes.WeightLevel(code, weights.Bits);
                }
            }
        return packed;
    }

    /// <summary>
    /// Re-quantizes <see cref="N"/> rows of <see cref="K"/> float weights (row-major) to <see cref="Bits"/> bits into
    /// these panels, as <see cref="Pack"/> would; allocates nothing (a training layer may call it every step).
    /// </summary>
    public void Repack(ReadOnlySpan<float> weights)
    {
        KernelChecks.Length(weights, (long)N * K, nameof(weights), "N rows of K floats");
        var panels = Bytes;
        for (int col = 0; col < N; col++)
        {
            var row = weights.Slice(col * K, K);
            for (int c = 0; c < K; c++)
                panels[Index(col, c)] = (byte)(sbyte)BitPlanes.WeightLevel(BitPlanes.QuantizeWeight(row[c], Bits), Bits);
        }
    }

    /// <summary>The level of weight <paramref name="k"/> of column <paramref name="col"/> (for tests and tools).</summary>
    public int Level(int col, int k)
    {
        if ((uint)col >= (uint)N)
            throw new ArgumentOutOfRangeException(nameof(col), col, $"col must lie in 0..{N - 1}.");
        if ((uint)k >= (uint)K)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in 0..{K - 1}.");
        return (sbyte)Bytes[Index(col, k)];
    }

    /// <summary>The panels as bytes, from the aligned start.</summary>
    private Span<byte> Bytes => MemoryMarshal.AsBytes(Data.AsSpan(Start));

    private int Index(int col, int k)
        => (col / PanelWidth) * PanelBytes + (k / GroupSize) * (GroupSize * PanelWidth) + (col % PanelWidth) * GroupSize + k % GroupSize;

    private static void CheckShape(int n, int k, int bits)
    {
        KernelChecks.Positive(n, nameof(n));
        KernelChecks.Positive(k, nameof(k));
        if (bits is < 1 or > MaxBits)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"bits must lie in 1..{MaxBits} (wider weights use BitSerialPackedB).");
    }
}
