// The per-thread accumulators of the tiled GEMM kernels (XNOR GEMM, binary convolution, SGEMM), as struct fields so
// that ILGPU keeps them in registers: local arrays would live in local memory (ptxas: an 80..160-byte stack frame).
using System.Runtime.CompilerServices;
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// One output row of a thread: four accumulators for columns x, x + ThreadCols, x + 2·ThreadCols, x + 3·ThreadCols,
/// and the step that adds one K element of A's row and B's four columns. Called through <c>default(TRow)</c>, so each
/// row type is its own specialized kernel code.
/// </summary>
internal interface ITileRow<TRow, TValue>
    where TRow : struct, ITileRow<TRow, TValue>
    where TValue : unmanaged
{
    /// <summary>The row after adding the product of <paramref name="a"/> with each b_j to column j.</summary>
    TRow Add(TRow row, TValue a, TValue b0, TValue b1, TValue b2, TValue b3);
}

/// <summary>An XNOR row: popcount(a XOR b_j) summed in int32.</summary>
internal struct CountRow : ITileRow<CountRow, ulong>
{
    public int C0, C1, C2, C3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly CountRow Add(CountRow row, ulong a, ulong b0, ulong b1, ulong b2, ulong b3) => new()
    {
        C0 = row.C0 + IntrinsicMath.PopCount(a ^ b0),
        C1 = row.C1 + IntrinsicMath.PopCount(a ^ b1),
        C2 = row.C2 + IntrinsicMath.PopCount(a ^ b2),
        C3 = row.C3 + IntrinsicMath.PopCount(a ^ b3),
    };

    /// <summary>Column <paramref name="j"/> (0..3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Column(int j) => j switch { 0 => C0, 1 => C1, 2 => C2, _ => C3 };
}

/// <summary>A float row: a·b_j summed with a multiply and an add, as the CPU reference.</summary>
internal struct SumRow : ITileRow<SumRow, float>
{
    public float S0, S1, S2, S3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly SumRow Add(SumRow row, float a, float b0, float b1, float b2, float b3) => new()
    {
        S0 = row.S0 + a * b0,
        S1 = row.S1 + a * b1,
        S2 = row.S2 + a * b2,
        S3 = row.S3 + a * b3,
    };

    /// <summary>Column <paramref name="j"/> (0..3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Column(int j) => j switch { 0 => S0, 1 => S1, 2 => S2, _ => S3 };
}

/// <summary>
/// A thread's RowsPerThread × 4 accumulators (RowsPerThread 4 or 8, see <see cref="Check{TTile}"/>): rows
/// y + i·ThreadRows of the block. Fields, not an array: each is a register.
/// </summary>
internal struct TileRows<TRow, TValue>
    where TRow : struct, ITileRow<TRow, TValue>
    where TValue : unmanaged
{
    public TRow R0, R1, R2, R3, R4, R5, R6, R7;

    /// <summary>
    /// Refuses a tile whose per-thread block the register accumulators do not hold: 4 columns and 4 or 8 rows per
    /// thread (Tile32x32, Tile64x64 and Tile128x64 have that shape).
    /// </summary>
    /// <exception cref="NotSupportedException">Another per-thread block.</exception>
    public static void Check<TTile>() where TTile : struct, IGemmTile
    {
        var tile = default(TTile);
        if (tile.ColsPerThread != 4 || tile.RowsPerThread is not (4 or 8))
            throw new NotSupportedException(
                $"{typeof(TTile).Name} gives each thread {tile.RowsPerThread} x {tile.ColsPerThread} outputs; the tiled kernels (XNOR GEMM, binary convolution, SGEMM) keep 4 or 8 rows x 4 columns per thread in registers. Use Tile32x32, Tile64x64 or Tile128x64, or a tile of that per-thread shape.");
    }

    /// <summary>
    /// Adds one shared-memory step: for the first <paramref name="count"/> (at most Depth) elements p of K staged,
    /// A[row][p] with B[col][p] for this thread's rows y + i·ThreadRows and columns x + j·ThreadCols, from tiles whose
    /// rows are Depth + 1 elements apart. The last step of a K that is not a multiple of Depth passes what is left,
    /// so no zero element is computed (K = 576 bits, a 3×3 window of 64 channels, is 9 words: 8 + 1, not 8 + 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TileRows<TRow, TValue> Step<TTile>(TileRows<TRow, TValue> c, ArrayView<TValue> sharedA, ArrayView<TValue> sharedB, int x, int y, int count)
        where TTile : struct, IGemmTile
    {
        var tile = default(TTile);
        var rows = default(TRow);
        int rowStep = tile.ThreadRows, colStep = tile.ThreadCols, stride = tile.Depth + 1;
        for (int p = 0; p < count; p++)
        {
            TValue b0 = sharedB[x * stride + p], b1 = sharedB[(x + colStep) * stride + p];
            TValue b2 = sharedB[(x + 2 * colStep) * stride + p], b3 = sharedB[(x + 3 * colStep) * stride + p];
            c.R0 = rows.Add(c.R0, sharedA[y * stride + p], b0, b1, b2, b3);
            c.R1 = rows.Add(c.R1, sharedA[(y + rowStep) * stride + p], b0, b1, b2, b3);
            c.R2 = rows.Add(c.R2, sharedA[(y + 2 * rowStep) * stride + p], b0, b1, b2, b3);
            c.R3 = rows.Add(c.R3, sharedA[(y + 3 * rowStep) * stride + p], b0, b1, b2, b3);
            if (tile.RowsPerThread == 8)
            {
                c.R4 = rows.Add(c.R4, sharedA[(y + 4 * rowStep) * stride + p], b0, b1, b2, b3);
                c.R5 = rows.Add(c.R5, sharedA[(y + 5 * rowStep) * stride + p], b0, b1, b2, b3);
                c.R6 = rows.Add(c.R6, sharedA[(y + 6 * rowStep) * stride + p], b0, b1, b2, b3);
                c.R7 = rows.Add(c.R7, sharedA[(y + 7 * rowStep) * stride + p], b0, b1, b2, b3);
            }
        }
        return c;
    }

    /// <summary>Row <paramref name="i"/> (0..7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly TRow Row(int i) => i switch { 0 => R0, 1 => R1, 2 => R2, 3 => R3, 4 => R4, 5 => R5, 6 => R6, _ => R7 };
}
