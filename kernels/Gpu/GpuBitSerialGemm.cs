// Bit-serial k-bit GEMM on the accelerator: popcounts of AND-ed bit planes, weighted by powers of two, in shared-memory tiles.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>D[i, j] = Σ_k qa[i, k] · (2 qw[j, k] − (2^kw − 1))</c>, the integer product of <see cref="BitSerialGemm"/> and
/// <see cref="Reference.BitSerialGemmReference"/>, computed on the planes as
/// <c>2 Σ_{p,q} 2^(p+q) popcount(a_p AND w_q) − (2^kw − 1) Σ_p 2^p popcount(a_p)</c>. Both operands use the row
/// layout of <see cref="BitPlanes"/>: row r holds its planes (bit p of the codes, least significant first) of
/// WordsFor(K) words each, one after the other, bits past K zero; A holds activation codes (ka planes), B weight
/// codes (kw planes, e.g. from <see cref="BitPlanes.PackActivationCodes"/> for 2..8 bits). The widths and the tile
/// shape are struct type parameters; launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuBitSerialGemm
{
    /// <summary>Writes the int32 products into <paramref name="d"/> (m × n, row-major).</summary>
    public static void Multiply<TBits, TTile>(GpuDevice device, ArrayView<ulong> a, int m, ArrayView<ulong> b, int n, int k, ArrayView<int> d)
        where TBits : struct, IBitWidths
        where TTile : struct, IGemmTile
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(m, nameof(m));
        GpuChecks.Positive(n, nameof(n));
        GpuChecks.Positive(k, nameof(k));
        var bits = default(TBits);
        var tile = default(TTile);
        int ka = bits.ActivationBits, kw = bits.WeightBits, kWords = BitPlanes.WordsFor(k);
        long largest = (long)k * ((1 << ka) - 1) * ((1 << kw) - 1);
        if (largest > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(k), k,
                $"k = {k} is too long for int32 products at {ka} x {kw} bits (k * (2^ka - 1) * (2^kw - 1) = {largest}); split K.");
        GpuChecks.Length(a, (long)m * ka * kWords, nameof(a), "m rows of ActivationBits planes of ceil(k / 64) words");
        GpuChecks.Length(b, (long)n * kw * kWords, nameof(b), "n rows of WeightBits planes of ceil(k / 64) words");
        GpuChecks.Length(d, (long)m * n, nameof(d), "m * n");
        GpuChecks.FitsInt(Math.Max((long)m * n, (long)Math.Max(m, n) * 8 * kWords), "m * n or a plane matrix");
        long sharedBytes = 8L * (GemmTileShape.Rows<TTile>() * (ka * tile.Depth + 1) + GemmTileShape.Cols<TTile>() * (kw * tile.Depth + 1));
        if (sharedBytes > device.Accelerator.MaxSharedMemoryPerGroup)
            throw new ArgumentException(
                $"{typeof(TTile).Name} at {ka} x {kw} bits stages {sharedBytes} bytes of shared memory, more than this device's {device.Accelerator.MaxSharedMemoryPerGroup}; use a smaller tile such as Tile32x32.",
                nameof(TTile));

        var kernel = device.Kernel("bit-serial-int32", typeof((TBits, TTile)), accelerator =>
            accelerator.LoadStreamKernel<Int32Dots, ArrayView<ulong>, ArrayView<ulong>, int, int, int>(TiledKernel<TBits, TTile, Int32Dots>));
        kernel(GemmTileShape.Config<TTile>(m, n), new Int32Dots(d, n), a, b, m, n, kWords);
    }

    /// <summary>
    /// One group per output block, as the XNOR kernel: per step of Depth words, every plane's words of the block's A
    /// and B rows go to shared memory (zero past the edges); each thread then sums its outputs'
    /// <c>2^(p+q) popcount(a_p AND w_q)</c> and its rows' <c>2^p popcount(a_p)</c> in registers.
    /// </summary>
    private static void TiledKernel<TBits, TTile, TOutput>(TOutput output, ArrayView<ulong> a, ArrayView<ulong> b, int m, int n, int kWords)
        where TBits : struct, IBitWidths
        where TTile : struct, IGemmTile
        where TOutput : struct, IXnorGemmOutput
    {
        var tile = default(TTile);
        var bits = default(TBits);
        int ka = bits.ActivationBits, kw = bits.WeightBits;
        int threadRows = tile.ThreadRows, threadCols = tile.ThreadCols;
        int rowsPerThread = tile.RowsPerThread, colsPerThread = tile.ColsPerThread, depth = tile.Depth;
        int tileRows = threadRows * rowsPerThread, tileCols = threadCols * colsPerThread;
        int strideA = ka * depth + 1, strideB = kw * depth + 1;

        var sharedA = SharedMemory.Allocate<ulong>(tileRows * strideA);
        var sharedB = SharedMemory.Allocate<ulong>(tileCols * strideB);
        var sums = LocalMemory.Allocate<int>(rowsPerThread * colsPerThread);
        var rowSums = LocalMemory.Allocate<int>(rowsPerThread);
        var bWords = LocalMemory.Allocate<ulong>(colsPerThread * kw);

        int x = Group.IdxX, y = Group.IdxY, thread = y * threadCols + x, threads = threadRows * threadCols;
        int rowBase = Grid.IdxY * tileRows, colBase = Grid.IdxX * tileCols;
        for (int i = 0; i < rowsPerThread * colsPerThread; i++)
            sums[i] = 0;
        for (int i = 0; i < rowsPerThread; i++)
            rowSums[i] = 0;

        for (int k0 = 0; k0 < kWords; k0 += depth)
        {
            for (int e = thread; e < tileRows * ka * depth; e += threads)
            {
                int r = e / (ka * depth), rest = e - r * ka * depth, p = rest / depth, w = rest - p * depth;
                int row = rowBase + r, word = k0 + w;
                sharedA[r * strideA + rest] = row < m && word < kWords ? a[(row * ka + p) * kWords + word] : 0UL;
            }
            for (int e = thread; e < tileCols * kw * depth; e += threads)
            {
                int r = e / (kw * depth), rest = e - r * kw * depth, q = rest / depth, w = rest - q * depth;
                int row = colBase + r, word = k0 + w;
                sharedB[r * strideB + rest] = row < n && word < kWords ? b[(row * kw + q) * kWords + word] : 0UL;
            }
            Group.Barrier();

            for (int w = 0; w < depth; w++)
            {
                for (int j = 0; j < colsPerThread; j++)
                    for (int q = 0; q < kw; q++)
                        bWords[j * kw + q] = sharedB[(x + j * threadCols) * strideB + q * depth + w];
                for (int i = 0; i < rowsPerThread; i++)
                    for (int p = 0; p < ka; p++)
                    {
                        ulong aWord = sharedA[(y + i * threadRows) * strideA + p * depth + w];
                        rowSums[i] += IntrinsicMath.PopCount(aWord) << p;
                        for (int j = 0; j < colsPerThread; j++)
                        {
                            int sum = 0;
                            for (int q = 0; q < kw; q++)
                                sum += IntrinsicMath.PopCount(aWord & bWords[j * kw + q]) << q;
                            sums[i * colsPerThread + j] += sum << p;
                        }
                    }
            }
            Group.Barrier();
        }

        int weightMax = (1 << kw) - 1;
        for (int i = 0; i < rowsPerThread; i++)
        {
            int row = rowBase + y + i * threadRows;
            if (row >= m)
                continue;
            for (int j = 0; j < colsPerThread; j++)
            {
                int col = colBase + x + j * threadCols;
                if (col < n)
                    output.Store(row, col, 2 * sums[i * colsPerThread + j] - weightMax * rowSums[i]);
            }
        }
    }
}
