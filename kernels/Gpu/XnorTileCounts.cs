// The per-thread popcount accumulators of the tiled XNOR kernels (GEMM and convolution), as struct fields so that
// ILGPU keeps them in registers: local arrays would live in local memory (ptxas: a 96..160-byte stack frame).
using System.Runtime.CompilerServices;
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

/// <summary>The four popcount sums of one output row of a thread: columns x, x + ThreadCols, x + 2·ThreadCols, x + 3·ThreadCols.</summary>
internal struct CountRow
{
    public int C0, C1, C2, C3;

    /// <summary>The row after adding popcount(a XOR b_j) to column j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CountRow Add(CountRow row, ulong a, ulong b0, ulong b1, ulong b2, ulong b3) => new()
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

/// <summary>
/// A thread's RowsPerThread × 4 popcount sums (RowsPerThread 4 or 8, see <see cref="XnorTileCounts.Check{TTile}"/>),
/// rows y + i·ThreadRows of the block. Fields, not an array: each is a register.
/// </summary>
internal struct XnorTileCounts
{
    public CountRow R0, R1, R2, R3, R4, R5, R6, R7;

    /// <summary>
    /// Refuses a tile whose per-thread block the register accumulators (these and <see cref="SgemmTileSums"/>) do not hold: 4 columns and 4 or 8 rows per
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
    /// Adds one shared-memory step: for each of the tile's Depth words w, popcount(A[row] XOR B[col]) of this thread's
    /// rows y + i·ThreadRows and columns x + j·ThreadCols, from tiles whose rows are Depth + 1 words apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static XnorTileCounts Step<TTile>(XnorTileCounts c, ArrayView<ulong> sharedA, ArrayView<ulong> sharedB, int x, int y)
        where TTile : struct, IGemmTile
    {
        var tile = default(TTile);
        int rowStep = tile.ThreadRows, colStep = tile.ThreadCols, depth = tile.Depth, stride = depth + 1;
        for (int w = 0; w < depth; w++)
        {
            ulong b0 = sharedB[x * stride + w], b1 = sharedB[(x + colStep) * stride + w];
            ulong b2 = sharedB[(x + 2 * colStep) * stride + w], b3 = sharedB[(x + 3 * colStep) * stride + w];
            c.R0 = CountRow.Add(c.R0, sharedA[y * stride + w], b0, b1, b2, b3);
            c.R1 = CountRow.Add(c.R1, sharedA[(y + rowStep) * stride + w], b0, b1, b2, b3);
            c.R2 = CountRow.Add(c.R2, sharedA[(y + 2 * rowStep) * stride + w], b0, b1, b2, b3);
            c.R3 = CountRow.Add(c.R3, sharedA[(y + 3 * rowStep) * stride + w], b0, b1, b2, b3);
            if (tile.RowsPerThread == 8)
            {
                c.R4 = CountRow.Add(c.R4, sharedA[(y + 4 * rowStep) * stride + w], b0, b1, b2, b3);
                c.R5 = CountRow.Add(c.R5, sharedA[(y + 5 * rowStep) * stride + w], b0, b1, b2, b3);
                c.R6 = CountRow.Add(c.R6, sharedA[(y + 6 * rowStep) * stride + w], b0, b1, b2, b3);
                c.R7 = CountRow.Add(c.R7, sharedA[(y + 7 * rowStep) * stride + w], b0, b1, b2, b3);
            }
        }
        return c;
    }

    /// <summary>Row <paramref name="i"/> (0..7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly CountRow Row(int i) => i switch { 0 => R0, 1 => R1, 2 => R2, 3 => R3, 4 => R4, 5 => R5, 6 => R6, _ => R7 };
}
