// XNOR GEMM on the accelerator: shared-memory tiles of packed words, several outputs per thread, popcount of XOR.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>dot[i, j] = K − 2 · popcount(A_i XOR B_j)</c> for packed rows A (m × ceil(K / 64) words) and B (n × ceil(K / 64)
/// words), tail bits zero in both (see <see cref="SignPacking"/>); the same numbers as <see cref="XnorGemm"/>. The tile
/// shape is a struct type parameter (<see cref="Tile64x64"/>, <see cref="Tile128x64"/>, <see cref="Tile32x32"/>): each
/// shape compiles to its own kernel, loaded once per device. Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuXnorGemm
{
    /// <summary>Writes the int32 dot products into <paramref name="c"/> (m × n, row-major).</summary>
    public static void Multiply<TTile>(GpuDevice device, ArrayView<ulong> a, int m, ArrayView<ulong> b, int n, int kBits, ArrayView<int> c)
        where TTile : struct, IGemmTile
    {
        int kWords = Check(device, a, m, b, n, kBits);
        GpuChecks.Length(c, (long)m * n, nameof(c), "m * n");
        GpuChecks.FitsInt((long)m * n, "m * n");
        Launch<TTile, Int32Dots>(device, "xnor-int32", new Int32Dots(c, n), a, m, b, n, kWords, kBits);
    }

    /// <summary>
    /// Writes packed sign bits into <paramref name="bits"/> (m rows of ceil(n / 64) words): bit j of row i is 1 (−1) when
    /// dot[i, j] &lt; threshold[j], the layout of the CPU kernel's threshold output. Clears the rows first.
    /// </summary>
    public static void MultiplyThreshold<TTile>(GpuDevice device, ArrayView<ulong> a, int m, ArrayView<ulong> b, int n, int kBits,
        ArrayView<int> threshold, ArrayView<ulong> bits) where TTile : struct, IGemmTile
    {
        int kWords = Check(device, a, m, b, n, kBits);
        int words = SignPacking.WordsFor(n);
        GpuChecks.Length(threshold, n, nameof(threshold), "one threshold per column n");
        GpuChecks.Length(bits, (long)m * words, nameof(bits), "m * ceil(n / 64)");
        GpuChecks.FitsInt((long)m * words * 64, "m * ceil(n / 64) * 64");
        bits.SubView(0, (long)m * words).MemSetToZero(device.Accelerator.DefaultStream);
        Launch<TTile, ThresholdBits>(device, "xnor-threshold", new ThresholdBits(threshold, bits, words), a, m, b, n, kWords, kBits);
    }

    /// <summary>
    /// Writes <c>scale[j] · dot[i, j] + bias[j]</c> floats into <paramref name="c"/> (m × n, row-major), the CPU kernel's
    /// scale-bias output (a folded BatchNorm; ones and zeros give the dot products as floats).
    /// </summary>
    public static void MultiplyScaleBias<TTile>(GpuDevice device, ArrayView<ulong> a, int m, ArrayView<ulong> b, int n, int kBits,
        ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> c) where TTile : struct, IGemmTile
    {
        int kWords = Check(device, a, m, b, n, kBits);
        GpuChecks.Length(scale, n, nameof(scale), "one scale per column n");
        GpuChecks.Length(bias, n, nameof(bias), "one bias per column n");
        GpuChecks.Length(c, (long)m * n, nameof(c), "m * n");
        GpuChecks.FitsInt((long)m * n, "m * n");
        Launch<TTile, ScaleBiasFloats>(device, "xnor-scale-bias", new ScaleBiasFloats(scale, bias, c, n), a, m, b, n, kWords, kBits);
    }

    /// <summary>Checks the operands of an XNOR GEMM (also the tensor-core one); returns ceil(kBits / 64).</summary>
    internal static int Check(GpuDevice device, ArrayView<ulong> a, int m, ArrayView<ulong> b, int n, int kBits)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(m, nameof(m));
        GpuChecks.Positive(n, nameof(n));
        GpuChecks.Positive(kBits, nameof(kBits));
        int kWords = SignPacking.WordsFor(kBits);
        GpuChecks.Length(a, (long)m * kWords, nameof(a), "m * ceil(kBits / 64) words");
        GpuChecks.Length(b, (long)n * kWords, nameof(b), "n * ceil(kBits / 64) words");
        GpuChecks.FitsInt((long)Math.Max(m, n) * kWords, "max(m, n) * ceil(kBits / 64)");
        return kWords;
    }

    private static void Launch<TTile, TOutput>(GpuDevice device, string name, TOutput output, ArrayView<ulong> a, int m,
        ArrayView<ulong> b, int n, int kWords, int kBits)
        where TTile : struct, IGemmTile
        where TOutput : struct, IXnorGemmOutput
    {
        TileRows<CountRow, ulong>.Check<TTile>();
        var kernel = device.Kernel(name, typeof(TTile), accelerator =>
            accelerator.LoadStreamKernel<TOutput, ArrayView<ulong>, ArrayView<ulong>, int, int, int, int>(TiledKernel<TTile, TOutput>));
        kernel(GemmTileShape.Config<TTile>(m, n), output, a, b, m, n, kWords, kBits);
    }

    /// <summary>
    /// One group per output block. Per step of Depth words, the group stages its block's A and B rows in shared memory
    /// (rows padded by one word against bank conflicts; words past K or rows past m/n read as zero), then every thread
    /// accumulates popcount(a XOR b) for its RowsPerThread × ColsPerThread outputs from registers.
    /// </summary>
    private static void TiledKernel<TTile, TOutput>(TOutput output, ArrayView<ulong> a, ArrayView<ulong> b, int m, int n, int kWords, int kBits)
        where TTile : struct, IGemmTile
        where TOutput : struct, IXnorGemmOutput
    {
        var tile = default(TTile);
        int threadRows = tile.ThreadRows, threadCols = tile.ThreadCols;
        int rowsPerThread = tile.RowsPerThread, colsPerThread = tile.ColsPerThread, depth = tile.Depth;
        int tileRows = threadRows * rowsPerThread, tileCols = threadCols * colsPerThread, stride = depth + 1;

        var sharedA = SharedMemory.Allocate<ulong>(tileRows * stride);
        var sharedB = SharedMemory.Allocate<ulong>(tileCols * stride);
        var counts = default(TileRows<CountRow, ulong>);

        int x = Group.IdxX, y = Group.IdxY, thread = y * threadCols + x, threads = threadRows * threadCols;
        int rowBase = Grid.IdxY * tileRows, colBase = Grid.IdxX * tileCols;

        for (int k0 = 0; k0 < kWords; k0 += depth)
        {
            for (int e = thread; e < tileRows * depth; e += threads)
            {
                int r = e / depth, w = e - r * depth, row = rowBase + r, word = k0 + w;
                sharedA[r * stride + w] = row < m && word < kWords ? a[row * kWords + word] : 0UL;
            }
            for (int e = thread; e < tileCols * depth; e += threads)
            {
                int r = e / depth, w = e - r * depth, row = colBase + r, word = k0 + w;
                sharedB[r * stride + w] = row < n && word < kWords ? b[row * kWords + word] : 0UL;
            }
            Group.Barrier();

            counts = TileRows<CountRow, ulong>.Step<TTile>(counts, sharedA, sharedB, x, y, Math.Min(depth, kWords - k0));
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
                if (col < n)
                    output.Store(row, col, kBits - 2 * counts.Row(i).Column(j));
            }
        }
    }
}
