// The per-thread sums of the tiled float GEMM, as struct fields so that ILGPU keeps them in registers (the float
// counterpart of XnorTileCounts: same per-thread block, products instead of popcounts).
using System.Runtime.CompilerServices;
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

/// <summary>The four sums of one output row of a thread: columns x, x + ThreadCols, x + 2·ThreadCols, x + 3·ThreadCols.</summary>
internal struct SumRow
{
    public float S0, S1, S2, S3;

    /// <summary>The row after adding a·b_j to column j (a multiply and an add, as the CPU reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SumRow Add(SumRow row, float a, float b0, float b1, float b2, float b3) => new()
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

/// <summary>A thread's RowsPerThread × 4 float sums (the per-thread shapes <see cref="XnorTileCounts.Check{TTile}"/> allows).</summary>
internal struct SgemmTileSums
{
    public SumRow R0, R1, R2, R3, R4, R5, R6, R7;

    /// <summary>Adds one shared-memory step of Depth values of K, from tiles whose rows are Depth + 1 floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SgemmTileSums Step<TTile>(SgemmTileSums s, ArrayView<float> sharedA, ArrayView<float> sharedB, int x, int y)
        where TTile : struct, IGemmTile
    {
        var tile = default(TTile);
        int rowStep = tile.ThreadRows, colStep = tile.ThreadCols, depth = tile.Depth, stride = depth + 1;
        for (int p = 0; p < depth; p++)
        {
            float b0 = sharedB[x * stride + p], b1 = sharedB[(x + colStep) * stride + p];
            float b2 = sharedB[(x + 2 * colStep) * stride + p], b3 = sharedB[(x + 3 * colStep) * stride + p];
            s.R0 = SumRow.Add(s.R0, sharedA[y * stride + p], b0, b1, b2, b3);
            s.R1 = SumRow.Add(s.R1, sharedA[(y + rowStep) * stride + p], b0, b1, b2, b3);
            s.R2 = SumRow.Add(s.R2, sharedA[(y + 2 * rowStep) * stride + p], b0, b1, b2, b3);
            s.R3 = SumRow.Add(s.R3, sharedA[(y + 3 * rowStep) * stride + p], b0, b1, b2, b3);
            if (tile.RowsPerThread == 8)
            {
                s.R4 = SumRow.Add(s.R4, sharedA[(y + 4 * rowStep) * stride + p], b0, b1, b2, b3);
                s.R5 = SumRow.Add(s.R5, sharedA[(y + 5 * rowStep) * stride + p], b0, b1, b2, b3);
                s.R6 = SumRow.Add(s.R6, sharedA[(y + 6 * rowStep) * stride + p], b0, b1, b2, b3);
                s.R7 = SumRow.Add(s.R7, sharedA[(y + 7 * rowStep) * stride + p], b0, b1, b2, b3);
            }
        }
        return s;
    }

    /// <summary>Row <paramref name="i"/> (0..7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly SumRow Row(int i) => i switch { 0 => R0, 1 => R1, 2 => R2, 3 => R3, 4 => R4, 5 => R5, 6 => R6, _ => R7 };
}
