// Byte GEMM micro-kernels: int32 dot products of up to 6 rows of u8 activation codes with the 16 columns of a
// panel of s8 weight levels (scalar, and AVX2 vpmaddubsw with int16 accumulators widened once per chunk).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// A micro-kernel: <c>tile[r * 16 + c] = Σ_k a_r[k] * level[c, k]</c> for rows r &lt; <c>rows</c> (at most
/// <see cref="ByteGemmTile.Rows"/>, row r at <c>a + r * lda</c>) and the 16 columns c of a <see cref="BytePackedB"/>
/// panel, over <c>k</c> codes. <c>chunk</c>: groups of 4 codes an int16 accumulator takes without overflow
/// (<see cref="ByteGemm.Int16Groups"/>). Reads no byte of A past <c>k</c> in any row.
/// </summary>
internal unsafe interface IByteTileKernel
{
    static abstract void Tile(byte* a, nint lda, int rows, sbyte* panel, int k, int chunk, int* tile);
}

/// <summary>The register tile of the byte GEMM.</summary>
internal static class ByteGemmTile
{
    /// <summary>Rows of A per micro-kernel call: 6 rows × 2 vectors = 12 accumulators, plus 2 weight vectors and 1 broadcast, of AVX2's 16 registers.</summary>
    public const int Rows = 6;

    /// <summary>Columns per micro-kernel call (one panel).</summary>
    public const int Columns = BytePackedB.PanelWidth;
}

/// <summary>Scalar: int32 accumulators, 16 columns of one row at a time.</summary>
internal readonly unsafe struct ScalarByteKernel : IByteTileKernel
{
    public static void Tile(byte* a, nint lda, int rows, sbyte* panel, int k, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        for (int r = 0; r < rows; r++)
        {
            byte* row = a + r * lda;
            int* dots = tile + r * S;
            for (int c = 0; c < S; c++)
                dots[c] = 0;
            for (int t = 0; t < k; t++)
            {
                int code = row[t];
                sbyte* levels = panel + (t / G) * (G * S) + t % G;
                for (int c = 0; c < S; c++)
                    dots[c] += code * levels[c * G];
            }
        }
    }
}

/// <summary>
/// AVX2: per group of 4 codes, each row's 4 bytes are broadcast to all lanes and <c>vpmaddubsw</c> multiplies
/// them with 4 levels of 8 columns, adding neighbours into int16 (a pair is at most
/// <c>2 (2^ka - 1)(2^kw - 1) ≤ 450</c>, so it never saturates); the int16 sums accumulate for <c>chunk</c> groups,
/// then <c>vpmaddwd</c> by ones adds each column's two int16 lanes into the int32 tile. Rows past <c>rows</c>
/// repeat the last row (their sums are computed and dropped); a tile of at most 4 rows runs a 4-row loop. The last 1..3 codes of a K that is not a multiple
/// of 4 are added by scalar code, so no byte past K is read.
/// </summary>
internal readonly unsafe struct Avx2ByteKernel : IByteTileKernel
{
    // Compiled fully optimized at once: the loop runs long and must keep its 16 vectors in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(byte* a, nint lda, int rows, sbyte* panel, int k, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        if (rows <= SmallRows)
        {
            SmallTile(a, lda, rows, panel, k, chunk, tile);
            return;
        }
        byte* a0 = a;
        byte* a1 = a + Math.Min(1, rows - 1) * lda;
        byte* a2 = a + Math.Min(2, rows - 1) * lda;
        byte* a3 = a + Math.Min(3, rows - 1) * lda;
        byte* a4 = a + Math.Min(4, rows - 1) * lda;
        byte* a5 = a + Math.Min(5, rows - 1) * lda;
        int full = k / G;
        for (int r = 0; r < ByteGemmTile.Rows; r++)
        {
            Vector256<int>.Zero.Store(tile + r * S);
            Vector256<int>.Zero.Store(tile + r * S + 8);
        }
        for (int start = 0; start < full; start += chunk)
        {
            int end = Math.Min(full, start + chunk);
            var c00 = Vector256<short>.Zero; var c01 = Vector256<short>.Zero;
            var c10 = Vector256<short>.Zero; var c11 = Vector256<short>.Zero;
            var c20 = Vector256<short>.Zero; var c21 = Vector256<short>.Zero;
            var c30 = Vector256<short>.Zero; var c31 = Vector256<short>.Zero;
            var c40 = Vector256<short>.Zero; var c41 = Vector256<short>.Zero;
            var c50 = Vector256<short>.Zero; var c51 = Vector256<short>.Zero;
            sbyte* w = panel + (nint)start * (G * S);
            for (nint offset = (nint)start * G, stop = (nint)end * G; offset < stop; offset += G, w += G * S)
            {
                var w0 = Vector256.Load(w);
                var w1 = Vector256.Load(w + 32);
                var x = Vector256.Create(*(int*)(a0 + offset)).AsByte();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x, w0));
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a1 + offset)).AsByte();
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x, w0));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a2 + offset)).AsByte();
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(x, w0));
                c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a3 + offset)).AsByte();
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(x, w0));
                c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a4 + offset)).AsByte();
                c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(x, w0));
                c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a5 + offset)).AsByte();
                c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(x, w0));
                c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(x, w1));
            }
            Widen(tile, c00, c01);
            Widen(tile + S, c10, c11);
            Widen(tile + 2 * S, c20, c21);
            Widen(tile + 3 * S, c30, c31);
            Widen(tile + 4 * S, c40, c41);
            Widen(tile + 5 * S, c50, c51);
        }
        if (full * G < k)
            ByteTail.Add(a, lda, rows, panel + (nint)full * (G * S), full * G, k, tile);
    }

    /// <summary>
    /// Rows at most which a tile runs the 4-row loop: a broadcast, 2 multiplies and 2 adds per row and group either
    /// way, so the last tile of a matrix (16 rows of a 4 × 4 image: 6 + 6 + 4) computes no rows it drops.
    /// </summary>
    private const int SmallRows = 4;

    /// <summary>The loop of <see cref="Tile"/> on 4 rows (8 accumulators), for tiles of at most <see cref="SmallRows"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallTile(byte* a, nint lda, int rows, sbyte* panel, int k, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        byte* a0 = a;
        byte* a1 = a + Math.Min(1, rows - 1) * lda;
        byte* a2 = a + Math.Min(2, rows - 1) * lda;
        byte* a3 = a + Math.Min(3, rows - 1) * lda;
        int full = k / G;
        for (int r = 0; r < SmallRows; r++)
        {
            Vector256<int>.Zero.Store(tile + r * S);
            Vector256<int>.Zero.Store(tile + r * S + 8);
        }
        for (int start = 0; start < full; start += chunk)
        {
            int end = Math.Min(full, start + chunk);
            var c00 = Vector256<short>.Zero; var c01 = Vector256<short>.Zero;
            var c10 = Vector256<short>.Zero; var c11 = Vector256<short>.Zero;
            var c20 = Vector256<short>.Zero; var c21 = Vector256<short>.Zero;
            var c30 = Vector256<short>.Zero; var c31 = Vector256<short>.Zero;
            sbyte* w = panel + (nint)start * (G * S);
            for (nint offset = (nint)start * G, stop = (nint)end * G; offset < stop; offset += G, w += G * S)
            {
                var w0 = Vector256.Load(w);
                var w1 = Vector256.Load(w + 32);
                var x = Vector256.Create(*(int*)(a0 + offset)).AsByte();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x, w0));
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a1 + offset)).AsByte();
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x, w0));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a2 + offset)).AsByte();
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(x, w0));
                c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(x, w1));
                x = Vector256.Create(*(int*)(a3 + offset)).AsByte();
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(x, w0));
                c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(x, w1));
            }
            Widen(tile, c00, c01);
            Widen(tile + S, c10, c11);
            Widen(tile + 2 * S, c20, c21);
            Widen(tile + 3 * S, c30, c31);
        }
        if (full * G < k)
            ByteTail.Add(a, lda, rows, panel + (nint)full * (G * S), full * G, k, tile);
    }

    /// <summary>Adds one row's int16 column pairs (8 columns per vector) to its 16 int32 dots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(int* dots, Vector256<short> low, Vector256<short> high)
    {
        var ones = Vector256.Create((short)1);
        Avx2.Add(Vector256.Load(dots), Avx2.MultiplyAddAdjacent(low, ones)).Store(dots);
        Avx2.Add(Vector256.Load(dots + 8), Avx2.MultiplyAddAdjacent(high, ones)).Store(dots + 8);
    }
}

/// <summary>
/// AVX-VNNI (used instead of <see cref="Avx2ByteKernel"/> where the processor has it): <c>vpdpbusd</c> multiplies each
/// row's broadcast 4 codes with 4 levels of 8 columns and adds the 4 products straight into int32 accumulators, so
/// there is no int16 stage and no chunking. Same tile, rows and tail as the AVX2 kernel.
/// </summary>
internal readonly unsafe struct AvxVnniByteKernel : IByteTileKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(byte* a, nint lda, int rows, sbyte* panel, int k, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        byte* a0 = a;
        byte* a1 = a + Math.Min(1, rows - 1) * lda;
        byte* a2 = a + Math.Min(2, rows - 1) * lda;
        byte* a3 = a + Math.Min(3, rows - 1) * lda;
        byte* a4 = a + Math.Min(4, rows - 1) * lda;
        byte* a5 = a + Math.Min(5, rows - 1) * lda;
        int full = k / G;
        var c00 = Vector256<int>.Zero; var c01 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero; var c11 = Vector256<int>.Zero;
        var c20 = Vector256<int>.Zero; var c21 = Vector256<int>.Zero;
        var c30 = Vector256<int>.Zero; var c31 = Vector256<int>.Zero;
        var c40 = Vector256<int>.Zero; var c41 = Vector256<int>.Zero;
        var c50 = Vector256<int>.Zero; var c51 = Vector256<int>.Zero;
        sbyte* w = panel;
        for (nint offset = 0, stop = (nint)full * G; offset < stop; offset += G, w += G * S)
        {
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 32);
            var x = Vector256.Create(*(int*)(a0 + offset)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, w0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, w1);
            x = Vector256.Create(*(int*)(a1 + offset)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, w0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, w1);
            x = Vector256.Create(*(int*)(a2 + offset)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, w0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, w1);
            x = Vector256.Create(*(int*)(a3 + offset)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, w0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, w1);
            x = Vector256.Create(*(int*)(a4 + offset)).AsByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, w0);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, w1);
            x = Vector256.Create(*(int*)(a5 + offset)).AsByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, w0);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, w1);
        }
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + S); c11.Store(tile + S + 8);
        c20.Store(tile + 2 * S); c21.Store(tile + 2 * S + 8);
        c30.Store(tile + 3 * S); c31.Store(tile + 3 * S + 8);
        c40.Store(tile + 4 * S); c41.Store(tile + 4 * S + 8);
        c50.Store(tile + 5 * S); c51.Store(tile + 5 * S + 8);
        if (full * G < k)
            ByteTail.Add(a, lda, rows, panel + (nint)full * (G * S), full * G, k, tile);
    }
}

/// <summary>The last 1..3 codes of each row when K is not a multiple of 4, in scalar code.</summary>
internal static unsafe class ByteTail
{
    /// <summary>Adds <c>a_r[t] * level[c, t]</c> for t in [<paramref name="from"/>, <paramref name="k"/>) to the tile; <paramref name="group"/> is the panel's last group.</summary>
    public static void Add(byte* a, nint lda, int rows, sbyte* group, int from, int k, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        for (int r = 0; r < rows; r++)
            for (int t = from; t < k; t++)
            {
                int code = a[r * lda + t];
                for (int c = 0; c < S; c++)
                    tile[r * S + c] += code * group[c * G + t - from];
            }
    }
}
