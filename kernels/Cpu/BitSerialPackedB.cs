// The k-bit weights (B operand) of the bit-serial GEMM, quantized and repacked once into bit-plane panels.

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// B of the bit-serial GEMM (N output columns of K weights, <see cref="Bits"/> bits each; codes and levels as in
/// <see cref="BitPlanes"/>). Panel p holds columns 16p..16p+15 as <c>Bits</c> plane slots of
/// <c>[k word][16 columns]</c>, so one vector load reads the same word of consecutive columns. Plane j sits in
/// slot <c>Bits - 1 - j</c> (most significant plane first): then the plane pairs (i, j) with one weight
/// <c>2^(i+j)</c> read A's planes i, i+1, ... and B's slots upwards, one contiguous stream per operand.
/// Columns past <see cref="N"/> and bits past <see cref="K"/> are zero words. The panels start on a 64-byte boundary
/// of a pinned array, so no vector load of a panel row splits a cache line. Packing allocates (once per layer);
/// <see cref="Repack"/> re-quantizes new float weights into the same panels without allocating.
/// </summary>
public sealed class BitSerialPackedB
{
    /// <summary>Columns per panel.</summary>
    public const int PanelWidth = 16;

    /// <summary>Columns (output channels).</summary>
    public int N { get; }

    /// <summary>Weights per column (the reduction length).</summary>
    public int K { get; }

    /// <summary>Words per plane.</summary>
    public int KWords { get; }

    /// <summary>Bits per weight, 1..8.</summary>
    public int Bits { get; }

    /// <summary>Number of 16-column panels.</summary>
    public int Panels => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>The panels, from word <see cref="Start"/> on (pinned, so that word stays 64-byte aligned).</summary>
    internal ulong[] Data { get; }

    /// <summary>Index of the first (64-byte aligned) word of the panels in <see cref="Data"/>.</summary>
    internal int Start { get; }

    private readonly byte[] codeScratch;
    private readonly ulong[] planeScratch;

    private BitSerialPackedB(int n, int k, int bits)
    {
        N = n;
        K = k;
        KWords = BitPlanes.WordsFor(k);
        Bits = bits;
        long length = (long)((n + PanelWidth - 1) / PanelWidth) * bits * KWords * PanelWidth;
        Data = AlignedWords.Allocate(length, out int start);
        Start = start;
        codeScratch = new byte[k];
        planeScratch = new ulong[bits * KWords];
    }

    /// <summary>Quantizes <paramref name="n"/> rows of <paramref name="k"/> float weights (row-major) to <paramref name="bits"/> bits and packs them.</summary>
    public static BitSerialPackedB Pack(ReadOnlySpan<float> weights, int n, int k, int bits)
    {
        CheckShape(n, k, bits);
        KernelChecks.Length(weights, (long)n * k, nameof(weights), "n rows of k floats");
        var packed = new BitSerialPackedB(n, k, bits);
        packed.Repack(weights);
        return packed;
    }

    /// <summary>
    /// Re-quantizes <see cref="N"/> rows of <see cref="K"/> float weights (row-major) to <see cref="Bits"/> bits into
    /// these panels, as <see cref="Pack"/> would; allocates nothing (a training layer calls it every step).
    /// </summary>
    public void Repack(ReadOnlySpan<float> weights)
    {
        KernelChecks.Length(weights, (long)N * K, nameof(weights), "N rows of K floats");
        for (int col = 0; col < N; col++)
        {
            var row = weights.Slice(col * K, K);
            for (int c = 0; c < K; c++)
                codeScratch[c] = BitPlanes.QuantizeWeight(row[c], Bits);
            StoreColumn(col, codeScratch, planeScratch);
        }
    }

    /// <summary>
    /// Packs <paramref name="n"/> rows of <paramref name="k"/> ready-made <paramref name="bits"/>-bit weight codes
    /// (level <c>2 * code - (2^bits - 1)</c>); throws when a code does not fit in <paramref name="bits"/> bits.
    /// </summary>
    public static BitSerialPackedB PackCodes(ReadOnlySpan<byte> codes, int n, int k, int bits)
    {
        CheckShape(n, k, bits);
        KernelChecks.Length(codes, (long)n * k, nameof(codes), "n rows of k codes");
        var planes = new ulong[bits * BitPlanes.WordsFor(k)];
        var packed = new BitSerialPackedB(n, k, bits);
        for (int col = 0; col < n; col++)
        {
            var row = codes.Slice(col * k, k);
            foreach (byte code in row)
                if (code >> bits != 0)
                    throw new ArgumentException($"codes holds {code}, above {(1 << bits) - 1}, the largest {bits}-bit code.", nameof(codes));
            packed.StoreColumn(col, row, planes);
        }
        return packed;
    }

    /// <summary>Word <paramref name="k"/> of plane <paramref name="plane"/> of column <paramref name="col"/> (for tests and tools).</summary>
    public ulong PlaneWord(int col, int plane, int k)
        => Data[Offset(col / PanelWidth, plane) + (long)k * PanelWidth + col % PanelWidth];

    private long Offset(int panel, int plane) => Start + ((long)panel * Bits + Bits - 1 - plane) * KWords * PanelWidth;

    /// <summary>Packs one column's codes into <paramref name="planes"/> (scratch of Bits * KWords words), then into its panel.</summary>
    private void StoreColumn(int col, ReadOnlySpan<byte> codes, Span<ulong> planes)
    {
        BitPlanes.PackCodeRow(codes, planes, KWords, Bits, vector: true);
        int panel = col / PanelWidth, lane = col % PanelWidth;
        for (int j = 0; j < Bits; j++)
        {
            long baseIndex = Offset(panel, j) + lane;
            for (int w = 0; w < KWords; w++)
                Data[baseIndex + (long)w * PanelWidth] = planes[j * KWords + w];
        }
    }

    private static void CheckShape(int n, int k, int bits)
    {
        KernelChecks.Positive(n, nameof(n));
        KernelChecks.Positive(k, nameof(k));
        BitPlanes.CheckBits(bits, 1, nameof(bits));
    }
}
