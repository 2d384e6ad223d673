// Byte micro-kernels of ByteGemm and ByteConv2d: int32 dot products of up to 6 rows of u8 activation codes, each read
// as segments of 4-code groups, with the 16 columns of a panel of s8 weight levels (scalar, AVX2 vpmaddubsw, AVX-VNNI).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// A micro-kernel: <c>tile[r * 16 + c] = Σ_s Σ_t rows[r][s * segmentStride + t] * level[c, s * 4 * segmentGroups + t]</c>
/// for rows r &lt; <c>count</c> (at most <see cref="ByteGemmTile.Rows"/>) and the 16 columns c of a
/// <see cref="BytePackedB"/> panel, t over the <c>4 * segmentGroups</c> codes of each of <c>segments</c> segments. A
/// GEMM row is one segment (its K / 4 whole groups; <see cref="ByteTail"/> adds the rest); a convolution's output
/// position is one segment per kernel row, <c>segmentStride</c> bytes apart in a padded image. <c>rows</c> holds
/// <see cref="ByteGemmTile.Rows"/> readable row pointers, those past <c>count</c> repeating the last row.
/// <c>chunk</c>: groups of 4 codes an int16 accumulator takes without overflow (<see cref="ByteGemm.Int16Groups"/>).
/// </summary>
internal unsafe interface IByteTileKernel
{
    static abstract void Tile(byte** rows, int count, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile);
}

/// <summary>The register tile of the byte kernels.</summary>
internal static class ByteGemmTile
{
    /// <summary>Rows per micro-kernel call: 6 rows × 2 vectors = 12 accumulators, plus 2 weight vectors and 1 broadcast, of AVX2's 16 registers.</summary>
    public const int Rows = 6;

    /// <summary>Columns per micro-kernel call (one panel).</summary>
    public const int Columns = BytePackedB.PanelWidth;
}

/// <summary>Scalar: int32 accumulators, 16 columns of one row at a time.</summary>
internal readonly unsafe struct ScalarByteKernel : IByteTileKernel
{
    public static void Tile(byte** rows, int count, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        int segmentLength = segmentGroups * G;
        for (int r = 0; r < count; r++)
        {
            int* dots = tile + r * S;
            for (int c = 0; c < S; c++)
                dots[c] = 0;
            for (int s = 0; s < segments; s++)
            {
                byte* codes = rows[r] + s * segmentStride;
                for (int t = 0; t < segmentLength; t++)
                {
                    int code = codes[t], k = s * segmentLength + t;
                    sbyte* levels = panel + (k / G) * (G * S) + k % G;
                    for (int c = 0; c < S; c++)
                        dots[c] += code * levels[c * G];
                }
            }
        }
    }
}

/// <summary>
/// How <see cref="VectorByteKernel{TMultiplyAdd}"/> adds the products of a row's 4 broadcast codes with 4 levels of 8
/// columns to its sums, and how it moves those sums into the int32 tile.
/// </summary>
internal unsafe interface IByteMultiplyAdd
{
    /// <summary>Whether the sums are int16 pairs that overflow after <c>chunk</c> groups (else int32 sums that do not).</summary>
    static abstract bool PairSums { get; }

    /// <summary>Adds the products of <paramref name="codes"/> (4 codes repeated) and <paramref name="levels"/> (4 levels of 8 columns) to <paramref name="sums"/>.</summary>
    static abstract Vector256<int> Add(Vector256<int> sums, Vector256<byte> codes, Vector256<sbyte> levels);

    /// <summary>Adds the sums of 8 columns to their int32 dots.</summary>
    static abstract void AddTo(int* dots, Vector256<int> sums);
}

/// <summary>
/// AVX2: <c>vpmaddubsw</c> multiplies the codes with the levels, adding neighbours into int16 (a pair is at most
/// <c>2 (2^ka - 1)(2^kw - 1) ≤ 450</c>, so it never saturates); <c>vpmaddwd</c> by ones adds each column's two int16
/// lanes into its int32 dot.
/// </summary>
internal readonly unsafe struct Avx2MultiplyAdd : IByteMultiplyAdd
{
    public static bool PairSums => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> codes, Vector256<sbyte> levels)
        => Avx2.Add(sums.AsInt16(), Avx2.MultiplyAddAdjacent(codes, levels)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddTo(int* dots, Vector256<int> sums)
        => Avx2.Add(Vector256.Load(dots), Avx2.MultiplyAddAdjacent(sums.AsInt16(), Vector256.Create((short)1))).Store(dots);
}

/// <summary>
/// AVX-VNNI (used instead of <see cref="Avx2MultiplyAdd"/> where the processor has it): <c>vpdpbusd</c> adds the 4
/// products of each column straight into an int32 sum, so there is no int16 stage and no chunking.
/// </summary>
internal readonly unsafe struct AvxVnniMultiplyAdd : IByteMultiplyAdd
{
    public static bool PairSums => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> codes, Vector256<sbyte> levels)
        => AvxVnni.MultiplyWideningAndAdd(sums, codes, levels);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddTo(int* dots, Vector256<int> sums)
        => Avx2.Add(Vector256.Load(dots), sums).Store(dots);
}

/// <summary>Rows of a register tile of <see cref="VectorByteKernel{TMultiplyAdd}"/>: 6, or 4.</summary>
internal interface IByteTileRows
{
    /// <summary>Whether the tile holds rows 4 and 5.</summary>
    static abstract bool Six { get; }
}

/// <summary>The 6-row tile (12 accumulators).</summary>
internal readonly struct SixByteRows : IByteTileRows
{
    public static bool Six => true;
}

/// <summary>The 4-row tile (8 accumulators), for tiles of at most 4 rows.</summary>
internal readonly struct FourByteRows : IByteTileRows
{
    public static bool Six => false;
}

/// <summary>
/// AVX2 or AVX-VNNI (<typeparamref name="TMultiplyAdd"/>): per group of 4 codes, each row's 4 bytes are broadcast to
/// all lanes and multiplied with 4 levels of 16 columns (two 32-byte loads) into 2 accumulators per row. The segments
/// are walked one after another; int16 sums run across segment boundaries and are added into the int32 tile every
/// <c>chunk</c> groups and at the end. Tiles of 6 or 5 rows run the 6-row loop (a 5-row tile computes its last row
/// twice and drops it); tiles of at most 4 rows run the same loop on 4 rows, so the last tile of a matrix
/// (16 rows of a 4 × 4 image: 6 + 6 + 4) computes no rows it drops.
/// </summary>
internal readonly unsafe struct VectorByteKernel<TMultiplyAdd> : IByteTileKernel where TMultiplyAdd : struct, IByteMultiplyAdd
{
    public static void Tile(byte** rows, int count, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile)
    {
        if (count <= 4)
            Tile<FourByteRows>(rows, segmentStride, segments, segmentGroups, panel, chunk, tile);
        else
            Tile<SixByteRows>(rows, segmentStride, segments, segmentGroups, panel, chunk, tile);
    }

    // Compiled fully optimized at once: the loop runs long and must keep its 15 vectors in registers
    // (12 accumulators, 2 weight vectors, 1 broadcast).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows>(byte** rows, nint segmentStride, int segments, int segmentGroups, sbyte* panel, int chunk, int* tile)
        where TRows : struct, IByteTileRows
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        byte* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3];
        byte* a4 = TRows.Six ? rows[4] : null, a5 = TRows.Six ? rows[5] : null;
        for (int r = 0; r < (TRows.Six ? 6 : 4); r++)
        {
            Vector256<int>.Zero.Store(tile + r * S);
            Vector256<int>.Zero.Store(tile + r * S + 8);
        }
        var c00 = Vector256<int>.Zero; var c01 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero; var c11 = Vector256<int>.Zero;
        var c20 = Vector256<int>.Zero; var c21 = Vector256<int>.Zero;
        var c30 = Vector256<int>.Zero; var c31 = Vector256<int>.Zero;
        var c40 = Vector256<int>.Zero; var c41 = Vector256<int>.Zero;
        var c50 = Vector256<int>.Zero; var c51 = Vector256<int>.Zero;
        sbyte* w = panel;
        int groupsPerSum = TMultiplyAdd.PairSums ? chunk : int.MaxValue, left = groupsPerSum;
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
                    c00 = TMultiplyAdd.Add(c00, x, w0);
                    c01 = TMultiplyAdd.Add(c01, x, w1);
                    x = Vector256.Create(*(int*)(a1 + offset)).AsByte();
                    c10 = TMultiplyAdd.Add(c10, x, w0);
                    c11 = TMultiplyAdd.Add(c11, x, w1);
                    x = Vector256.Create(*(int*)(a2 + offset)).AsByte();
                    c20 = TMultiplyAdd.Add(c20, x, w0);
                    c21 = TMultiplyAdd.Add(c21, x, w1);
                    x = Vector256.Create(*(int*)(a3 + offset)).AsByte();
                    c30 = TMultiplyAdd.Add(c30, x, w0);
                    c31 = TMultiplyAdd.Add(c31, x, w1);
                    if (TRows.Six)
                    {
                        x = Vector256.Create(*(int*)(a4 + offset)).AsByte();
                        c40 = TMultiplyAdd.Add(c40, x, w0);
                        c41 = TMultiplyAdd.Add(c41, x, w1);
                        x = Vector256.Create(*(int*)(a5 + offset)).AsByte();
                        c50 = TMultiplyAdd.Add(c50, x, w0);
                        c51 = TMultiplyAdd.Add(c51, x, w1);
                    }
                }
                g += run;
                left -= run;
                if (left == 0 || (g == segmentGroups && s == segments - 1))
                {
                    TMultiplyAdd.AddTo(tile, c00); TMultiplyAdd.AddTo(tile + 8, c01);
                    TMultiplyAdd.AddTo(tile + S, c10); TMultiplyAdd.AddTo(tile + S + 8, c11);
                    TMultiplyAdd.AddTo(tile + 2 * S, c20); TMultiplyAdd.AddTo(tile + 2 * S + 8, c21);
                    TMultiplyAdd.AddTo(tile + 3 * S, c30); TMultiplyAdd.AddTo(tile + 3 * S + 8, c31);
                    if (TRows.Six)
                    {
                        TMultiplyAdd.AddTo(tile + 4 * S, c40); TMultiplyAdd.AddTo(tile + 4 * S + 8, c41);
                        TMultiplyAdd.AddTo(tile + 5 * S, c50); TMultiplyAdd.AddTo(tile + 5 * S + 8, c51);
                    }
                    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<int>.Zero;
                    left = groupsPerSum;
                }
            }
        }
    }
}

/// <summary>The last 1..3 codes of each row of a GEMM whose K is not a multiple of 4, in scalar code.</summary>
internal static unsafe class ByteTail
{
    /// <summary>
    /// Adds <c>rows[r][offset + t] * level[c, t]</c> for rows r &lt; <paramref name="count"/> and t &lt;
    /// <paramref name="codes"/> to the tile; <paramref name="group"/> is the panel's last group.
    /// </summary>
    public static void Add(byte** rows, int count, nint offset, sbyte* group, int codes, int* tile)
    {
        const int S = BytePackedB.PanelWidth, G = BytePackedB.GroupSize;
        for (int r = 0; r < count; r++)
            for (int t = 0; t < codes; t++)
            {
                int code = rows[r][offset + t];
                for (int c = 0; c < S; c++)
                    tile[r * S + c] += code * group[c * G + t];
            }
    }
}
