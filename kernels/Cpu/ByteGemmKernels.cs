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
/// repeat the last row (their sums are computed and dropped). The last, partial group is read from a 4-byte
/// copy of each row's tail, so no byte past K is read.
/// </summary>
internal readonly unsafe struct Avx2ByteKernel : IByteTileKernel
{
    // Compiled fully optimized at once: the loop runs long and must keep its 15 vectors in registers.
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
        int full = k / G, groups = (k + G - 1) / G;
        // The partial last group: each row's remaining codes, zero-extended to 4 bytes (B holds level 0 there).
        byte* tail = stackalloc byte[ByteGemmTile.Rows * G];
        if (groups > full)
        {
            for (int i = 0; i < ByteGemmTile.Rows * G; i++)
                tail[i] = 0;
            for (int t = full * G; t < k; t++)
            {
                tail[0 * G + t - full * G] = a0[t];
                tail[1 * G + t - full * G] = a1[t];
                tail[2 * G + t - full * G] = a2[t];
                tail[3 * G + t - full * G] = a3[t];
                tail[4 * G + t - full * G] = a4[t];
                tail[5 * G + t - full * G] = a5[t];
            }
        }

        var ones = Vector256.Create((short)1);
        for (int r = 0; r < ByteGemmTile.Rows; r++)
        {
            Vector256<int>.Zero.Store(tile + r * S);
            Vector256<int>.Zero.Store(tile + r * S + 8);
        }
        for (int start = 0; start < groups; start += chunk)
        {
            int end = Math.Min(groups, start + chunk);
            var c00 = Vector256<short>.Zero; var c01 = Vector256<short>.Zero;
            var c10 = Vector256<short>.Zero; var c11 = Vector256<short>.Zero;
            var c20 = Vector256<short>.Zero; var c21 = Vector256<short>.Zero;
            var c30 = Vector256<short>.Zero; var c31 = Vector256<short>.Zero;
            var c40 = Vector256<short>.Zero; var c41 = Vector256<short>.Zero;
            var c50 = Vector256<short>.Zero; var c51 = Vector256<short>.Zero;
            byte* p0 = a0, p1 = a1, p2 = a2, p3 = a3, p4 = a4, p5 = a5;
            int g = start, stop = Math.Min(end, full);
            while (true)
            {
                for (; g < stop; g++)
                {
                    sbyte* w = panel + g * (G * S);
                    var w0 = Vector256.Load(w);
                    var w1 = Vector256.Load(w + 32);
                    int offset = g * G;
                    var x = Vector256.Create(*(int*)(p0 + offset)).AsByte();
                    c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x, w0));
                    c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x, w1));
                    x = Vector256.Create(*(int*)(p1 + offset)).AsByte();
                    c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x, w0));
                    c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x, w1));
                    x = Vector256.Create(*(int*)(p2 + offset)).AsByte();
                    c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(x, w0));
                    c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(x, w1));
                    x = Vector256.Create(*(int*)(p3 + offset)).AsByte();
                    c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(x, w0));
                    c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(x, w1));
                    x = Vector256.Create(*(int*)(p4 + offset)).AsByte();
                    c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(x, w0));
                    c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(x, w1));
                    x = Vector256.Create(*(int*)(p5 + offset)).AsByte();
                    c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(x, w0));
                    c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(x, w1));
                }
                if (stop == end)
                    break;
                // The partial group (stop == full, end == full + 1): read it from the tail copies.
                nint back = (nint)full * G;
                p0 = tail - back; p1 = tail + G - back; p2 = tail + 2 * G - back;
                p3 = tail + 3 * G - back; p4 = tail + 4 * G - back; p5 = tail + 5 * G - back;
                stop = end;
            }
            Widen(tile, c00, c01, ones);
            Widen(tile + S, c10, c11, ones);
            Widen(tile + 2 * S, c20, c21, ones);
            Widen(tile + 3 * S, c30, c31, ones);
            Widen(tile + 4 * S, c40, c41, ones);
            Widen(tile + 5 * S, c50, c51, ones);
        }
    }

    /// <summary>Adds one row's int16 column pairs (8 columns per vector) to its 16 int32 dots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(int* dots, Vector256<short> low, Vector256<short> high, Vector256<short> ones)
    {
        Avx2.Add(Vector256.Load(dots), Avx2.MultiplyAddAdjacent(low, ones)).Store(dots);
        Avx2.Add(Vector256.Load(dots + 8), Avx2.MultiplyAddAdjacent(high, ones)).Store(dots + 8);
    }
}
