// Byte convolution micro-kernels: int32 dot products of up to 6 output positions, read as kernel-row segments of a
// padded code image (no im2col matrix), with the 16 columns of a panel of s8 weight levels.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// A micro-kernel: <c>tile[r * 16 + c] = Σ_s Σ_t rows[r][s * segmentStride + t] * level[c, s * 4 * segmentGroups + t]</c>
/// for the 6 row pointers r (a position's first tap in each of <c>segments</c> kernel rows, <c>segmentStride</c>
/// bytes apart; rows past the tile's positions repeat the last one) and the 16 columns c of a
/// <see cref="BytePackedB"/> panel, over <c>segmentGroups</c> groups of 4 codes per segment. <c>chunk</c>: groups of 4
/// codes an int16 accumulator takes without overflow (<see cref="ByteGemm.Int16Groups"/>).
/// </summary>
internal unsafe interface IByteConvKernel
{
    static abstract void Tile(byte** rows, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile);
}

/// <summary>Scalar: int32 accumulators, one row and tap at a time.</summary>
internal readonly unsafe struct ScalarByteConvKernel : IByteConvKernel
{
    public static void Tile(byte** rows, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        int segmentLength = segmentGroups * G;
        for (int r = 0; r < ByteGemmTile.Rows; r++)
        {
            int* dots = tile + r * S;
            for (int c = 0; c < S; c++)
                dots[c] = 0;
            for (int s = 0; s < segments; s++)
                for (int t = 0; t < segmentLength; t++)
                {
                    int code = rows[r][s * segmentStride + t], k = s * segmentLength + t;
                    sbyte* levels = panel + (k / G) * (G * S) + k % G;
                    for (int c = 0; c < S; c++)
                        dots[c] += code * levels[c * G];
                }
        }
    }
}

/// <summary>
/// AVX2: the <see cref="Avx2ByteKernel"/> loop (per group of 4 codes, each row's 4 bytes broadcast and multiplied
/// with 4 levels of 16 columns by <c>vpmaddubsw</c> into int16 pairs) walking the kernel-row segments one after
/// another; the int16 sums run across segments and are widened into the int32 tile every <c>chunk</c> groups and
/// at the end.
/// </summary>
internal readonly unsafe struct Avx2ByteConvKernel : IByteConvKernel
{
    // Compiled fully optimized at once: the loop runs long and must keep its 16 vectors in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(byte** rows, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        byte* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5];
        for (int r = 0; r < ByteGemmTile.Rows; r++)
        {
            Vector256<int>.Zero.Store(tile + r * S);
            Vector256<int>.Zero.Store(tile + r * S + 8);
        }
        var c00 = Vector256<short>.Zero; var c01 = Vector256<short>.Zero;
        var c10 = Vector256<short>.Zero; var c11 = Vector256<short>.Zero;
        var c20 = Vector256<short>.Zero; var c21 = Vector256<short>.Zero;
        var c30 = Vector256<short>.Zero; var c31 = Vector256<short>.Zero;
        var c40 = Vector256<short>.Zero; var c41 = Vector256<short>.Zero;
        var c50 = Vector256<short>.Zero; var c51 = Vector256<short>.Zero;
        sbyte* w = panel;
        int left = chunk;
        for (int s = 0; s < segments; s++)
        {
            for (int g = 0; g < segmentGroups;)
            {
                int run = Math.Min(segmentGroups - g, left);
                for (nint offset = s * segmentStride + (nint)g * G, stop = offset + (nint)run * G; offset < stop; offset += G, w += G * S)
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
                g += run;
                left -= run;
                if (left == 0)
                {
                    Widen(tile, c00, c01);
                    Widen(tile + S, c10, c11);
                    Widen(tile + 2 * S, c20, c21);
                    Widen(tile + 3 * S, c30, c31);
                    Widen(tile + 4 * S, c40, c41);
                    Widen(tile + 5 * S, c50, c51);
                    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<short>.Zero;
                    left = chunk;
                }
            }
        }
        if (left != chunk)
        {
            Widen(tile, c00, c01);
            Widen(tile + S, c10, c11);
            Widen(tile + 2 * S, c20, c21);
            Widen(tile + 3 * S, c30, c31);
            Widen(tile + 4 * S, c40, c41);
            Widen(tile + 5 * S, c50, c51);
        }
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
/// AVX-VNNI (used instead of <see cref="Avx2ByteConvKernel"/> where the processor has it): <c>vpdpbusd</c> adds the
/// products of each row's 4 broadcast codes with 4 levels straight into int32 accumulators, so there is no int16
/// stage and no chunking. Same rows and segments as the AVX2 kernel.
/// </summary>
internal readonly unsafe struct AvxVnniByteConvKernel : IByteConvKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(byte** rows, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        byte* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5];
        var c00 = Vector256<int>.Zero; var c01 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero; var c11 = Vector256<int>.Zero;
        var c20 = Vector256<int>.Zero; var c21 = Vector256<int>.Zero;
        var c30 = Vector256<int>.Zero; var c31 = Vector256<int>.Zero;
        var c40 = Vector256<int>.Zero; var c41 = Vector256<int>.Zero;
        var c50 = Vector256<int>.Zero; var c51 = Vector256<int>.Zero;
        sbyte* w = panel;
        for (int s = 0; s < segments; s++)
            for (nint offset = s * segmentStride, stop = offset + (nint)segmentGroups * G; offset < stop; offset += G, w += G * S)
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
    }
}
