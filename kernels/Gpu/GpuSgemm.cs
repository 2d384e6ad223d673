// Float GEMM on the accelerator: cuBLAS on CUDA, our shared-memory tiled kernel on every accelerator.
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Row-major <c>C = alpha · op(A) · op(B) + beta · C</c> with op(A) m × k and op(B) k × n, the arguments and meaning of
/// <see cref="Cpu.Sgemm.Multiply"/> (beta == 0 ignores C's old contents, NaN included). Launches are asynchronous on
/// the device's default stream.
/// </summary>
public static class GpuSgemm
{
    /// <summary>
    /// Runs the GEMM with <paramref name="engine"/> (Auto: cuBLAS where <see cref="GpuDevice.IsCuBlasAvailable"/>, else
    /// the tiled kernel with <see cref="Tile64x64"/>).
    /// </summary>
    public static void Multiply(GpuDevice device, bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ArrayView<float> a, int lda, ArrayView<float> b, int ldb, float beta, ArrayView<float> c, int ldc,
        GpuSgemmEngine engine = GpuSgemmEngine.Auto)
    {
        Check(device, transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc);
        if (engine == GpuSgemmEngine.Auto)
            engine = device.IsCuBlasAvailable ? GpuSgemmEngine.CuBlas : GpuSgemmEngine.Tiled;
        switch (engine)
        {
            case GpuSgemmEngine.CuBlas:
                // cuBLAS is column-major: row-major C (m × n) is column-major Cᵀ = op(B)ᵀ · op(A)ᵀ, so swap A and B.
                device.CuBlas.Gemm(
                    transposeB ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
                    transposeA ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
                    n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
                break;
            case GpuSgemmEngine.Tiled:
                MultiplyTiled<Tile64x64>(device, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(engine), engine, "engine must be Auto, CuBlas or Tiled.");
        }
    }

    /// <summary>Our tiled kernel with tile shape <typeparamref name="TTile"/> (Depth floats of K per step).</summary>
    public static void MultiplyTiled<TTile>(GpuDevice device, bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ArrayView<float> a, int lda, ArrayView<float> b, int ldb, float beta, ArrayView<float> c, int ldc)
        where TTile : struct, IGemmTile
    {
        Check(device, transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc);
        TileRows<SumRow, float>.Check<TTile>();
        var kernel = device.Kernel("sgemm", typeof(TTile), accelerator =>
            accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, SgemmShape>(TiledKernel<TTile>));
        var shape = new SgemmShape(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, lda, ldb, ldc, alpha, beta);
        kernel(GemmTileShape.Config<TTile>(m, n), a, b, c, shape);
    }

    private static void Check(GpuDevice device, bool transposeA, bool transposeB, int m, int n, int k,
        ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(m, nameof(m));
        GpuChecks.Positive(n, nameof(n));
        GpuChecks.Positive(k, nameof(k));
        int aCols = transposeA ? m : k, aRows = transposeA ? k : m;
        int bCols = transposeB ? k : n, bRows = transposeB ? n : k;
        if (lda < aCols)
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least {aCols} (the columns of A as stored).");
        if (ldb < bCols)
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"ldb must be at least {bCols} (the columns of B as stored).");
        if (ldc < n)
            throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be at least n ({n}).");
        GpuChecks.Length(a, (long)(aRows - 1) * lda + aCols, nameof(a), "the rows of A as stored, lda apart");
        GpuChecks.Length(b, (long)(bRows - 1) * ldb + bCols, nameof(b), "the rows of B as stored, ldb apart");
        GpuChecks.Length(c, (long)(m - 1) * ldc + n, nameof(c), "m rows of C, ldc apart");
        GpuChecks.FitsInt(Math.Max(Math.Max((long)aRows * lda, (long)bRows * ldb), (long)m * ldc), "the largest matrix");
    }

    /// <summary>
    /// One group per output block: per step of Depth values of K, stages op(A)'s block rows and op(B)'s block columns
    /// in shared memory (both K-contiguous, padded by one against bank conflicts, zero past the edges), then each
    /// thread accumulates its RowsPerThread × ColsPerThread outputs in registers.
    /// </summary>
    private static void TiledKernel<TTile>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, SgemmShape shape)
        where TTile : struct, IGemmTile
    {
        var tile = default(TTile);
        int threadRows = tile.ThreadRows, threadCols = tile.ThreadCols;
        int rowsPerThread = tile.RowsPerThread, colsPerThread = tile.ColsPerThread, depth = tile.Depth;
        int tileRows = threadRows * rowsPerThread, tileCols = threadCols * colsPerThread, stride = depth + 1;

        var sharedA = SharedMemory.Allocate<float>(tileRows * stride);
        var sharedB = SharedMemory.Allocate<float>(tileCols * stride);
        var sums = default(TileRows<SumRow, float>);

        int x = Group.IdxX, y = Group.IdxY, thread = y * threadCols + x, threads = threadRows * threadCols;
        int rowBase = Grid.IdxY * tileRows, colBase = Grid.IdxX * tileCols;
        int m = shape.M, n = shape.N, k = shape.K;

        for (int k0 = 0; k0 < k; k0 += depth)
        {
            for (int e = thread; e < tileRows * depth; e += threads)
            {
                // Consecutive threads take consecutive elements of A as stored: along K, or along M when transposed.
                int r, p;
                if (shape.TransposeA != 0)
                {
                    p = e / tileRows;
                    r = e - p * tileRows;
                }
                else
                {
                    r = e / depth;
                    p = e - r * depth;
                }
                int row = rowBase + r, kk = k0 + p;
                float value = 0f;
                if (row < m && kk < k)
                    value = shape.TransposeA != 0 ? a[kk * shape.Lda + row] : a[row * shape.Lda + kk];
                sharedA[r * stride + p] = value;
            }
            for (int e = thread; e < tileCols * depth; e += threads)
            {
                // Along K when B is transposed (stored n × k), else along N.
                int col, p;
                if (shape.TransposeB != 0)
                {
                    col = e / depth;
                    p = e - col * depth;
                }
                else
                {
                    p = e / tileCols;
                    col = e - p * tileCols;
                }
                int column = colBase + col, kk = k0 + p;
                float value = 0f;
                if (column < n && kk < k)
                    value = shape.TransposeB != 0 ? b[column * shape.Ldb + kk] : b[kk * shape.Ldb + column];
                sharedB[col * stride + p] = value;
            }
            Group.Barrier();

            sums = TileRows<SumRow, float>.Step<TTile>(sums, sharedA, sharedB, x, y, Math.Min(depth, k - k0));
            Group.Barrier();
        }

        for (int i = 0; i < rowsPerThread; i++)
        {
            int row = rowBase + y + i * threadRows;
            if (row >= m)
                continue;
            for (int j = 0; j < colsPerThread; j++)
            {
                int col = colBase + x + j * threadCols;
                if (col >= n)
                    continue;
                int index = row * shape.Ldc + col;
                float result = shape.Alpha * sums.Row(i).Column(j);
                c[index] = shape.Beta == 0f ? result : result + shape.Beta * c[index];
            }
        }
    }

    /// <summary>The scalar arguments of one launch, passed as one struct.</summary>
    internal readonly record struct SgemmShape(int TransposeA, int TransposeB, int M, int N, int K, int Lda, int Ldb, int Ldc,
        float Alpha, float Beta);
}
