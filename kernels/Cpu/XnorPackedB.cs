// The B operand (weights) of the XNOR GEMM, repacked once into panels of 16 columns for the micro-kernels.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// B of <c>C = A ⊙ Bᵀ</c> in the micro-kernels' layout: panel p holds columns 16p..16p+15 as
/// <c>[k word][16 columns]</c>, so one vector load reads the same word of consecutive columns. Columns past
/// <see cref="N"/> are zero words. The panels start on a 64-byte boundary of a pinned array, so no vector load
/// splits a cache line. Weights are packed once when a layer is built; packing allocates, <see cref="Repack"/> refills in place.
/// </summary>
public sealed class XnorPackedB
{
    /// <summary>Columns per panel.</summary>
    public const int PanelWidth = 16;

    /// <summary>Columns (output channels).</summary>
    public int N { get; }

    /// <summary>Words per row of A and of B.</summary>
    public int KWords { get; }

    /// <summary>Number of real bits along K (the K of <c>K - 2 * popcount</c>); bits past it are zero.</summary>
    public int KBits { get; }

    /// <summary>Number of 16-column panels.</summary>
    public int Panels => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>The panels, from word <see cref="Start"/> on (pinned, so that word stays 64-byte aligned).</summary>
    internal ulong[] Data { get; }

    internal int Start { get; }

    private XnorPackedB(int n, int kWords, int kBits)
    {
        N = n;
        KWords = kWords;
        KBits = kBits;
        Data = AlignedWords.Allocate((long)Panels * kWords * PanelWidth, out int start);
        Start = start;
    }

    /// <summary>
    /// Packs B given as <paramref name="n"/> rows of <paramref name="kWords"/> words (row stride
    /// <paramref name="ldb"/>, default <paramref name="kWords"/>). <paramref name="kBits"/> is the number of
    /// real bits per row; every other bit of a row must be zero in A and in B (the packing contract).
    /// </summary>
    public static XnorPackedB Pack(ReadOnlySpan<ulong> b, int n, int kWords, int kBits, int ldb = 0)
    {
        KernelChecks.Positive(n, nameof(n));
        KernelChecks.Positive(kWords, nameof(kWords));
        if (ldb == 0)
            ldb = kWords;
        if (ldb < kWords)
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"ldb must be at least kWords ({kWords}).");
        if (kBits < 0 || kBits > kWords * 64L)
            throw new ArgumentOutOfRangeException(nameof(kBits), kBits, $"kBits must lie in 0..kWords * 64 ({kWords * 64L}).");
        KernelChecks.Length(b, (long)(n - 1) * ldb + kWords, nameof(b), "n rows of ldb words");

        var packed = new XnorPackedB(n, kWords, kBits);
        packed.Fill(b, ldb);
        return packed;
    }

    /// <summary>
    /// Packs new values into the existing panels in place (same <see cref="N"/>, <see cref="KWords"/> and
    /// <see cref="KBits"/>): B given as <see cref="N"/> rows of <see cref="KWords"/> words with row stride
    /// <paramref name="ldb"/> (default <see cref="KWords"/>). For weights that change every training step;
    /// allocates nothing, and the result equals a fresh <see cref="Pack"/> of the same rows.
    /// </summary>
    public void Repack(ReadOnlySpan<ulong> b, int ldb = 0)
    {
        if (ldb == 0)
            ldb = KWords;
        if (ldb < KWords)
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"ldb must be at least KWords ({KWords}).");
        KernelChecks.Length(b, (long)(N - 1) * ldb + KWords, nameof(b), "N rows of ldb words");
        Fill(b, ldb);
    }

    private void Fill(ReadOnlySpan<ulong> b, int ldb)
    {
        var data = Data;
        for (int col = 0; col < N; col++)
        {
            int panel = col / PanelWidth, lane = col % PanelWidth;
            var row = b.Slice(col * ldb, KWords);
            long baseIndex = Start + (long)panel * KWords * PanelWidth + lane;
            for (int k = 0; k < KWords; k++)
                data[baseIndex + (long)k * PanelWidth] = row[k];
        }
    }

    /// <summary>Word <paramref name="k"/> of column <paramref name="col"/> (for tests and tools).</summary>
    public ulong WordAt(int col, int k)
        => Data[Start + (long)(col / PanelWidth) * KWords * PanelWidth + (long)k * PanelWidth + col % PanelWidth];
}
