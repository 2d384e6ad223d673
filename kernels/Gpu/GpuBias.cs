// Per-column bias on the accelerator: the bias written into every row (before a GEMM adds into it) and its gradient,
// the column sums of dy.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Row-major <c>rows × cols</c> matrices whose column j belongs to output channel j (dense outputs, NHWC convolution
/// outputs). <see cref="Broadcast"/> sets every row to the bias (a GEMM with beta 1 then adds the products, as the
/// runtime's layers do); <see cref="ColumnSums"/> writes <c>sums[j] = Σ_r x[r, j]</c> in the runtime's order: float
/// sums over blocks of <see cref="BlockRows"/> rows (rows in order), then the blocks in order in double, so a dense
/// layer's bias gradient equals the CPU's bit for bit. Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuBias
{
    /// <summary>Rows per partial sum, the runtime's <c>ColumnSums</c> block.</summary>
    public const int BlockRows = 256;

    /// <summary>Scratch floats <see cref="ColumnSums"/> needs: one partial sum per block of rows and column.</summary>
    public static int ScratchLength(int rows, int cols)
    {
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(cols, nameof(cols));
        long length = (long)((rows + BlockRows - 1) / BlockRows) * cols;
        GpuChecks.FitsInt(length, "the column sums scratch");
        return (int)length;
    }

    /// <summary><c>y[r, j] = bias[j]</c> for every row r.</summary>
    public static void Broadcast(GpuDevice device, ArrayView<float> bias, int rows, int cols, ArrayView<float> y)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(cols, nameof(cols));
        GpuChecks.FitsInt((long)rows * cols, "rows * cols");
        GpuChecks.Length(bias, cols, nameof(bias), "one float per column");
        GpuChecks.Length(y, (long)rows * cols, nameof(y), "rows * cols");
        device.Kernel("bias-broadcast", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>>(BroadcastKernel))(rows * cols, bias, cols, y);
    }

    /// <summary>Writes <c>sums[j] = Σ_r x[r, j]</c>, using <paramref name="scratch"/> (<see cref="ScratchLength"/> floats).</summary>
    public static void ColumnSums(GpuDevice device, ArrayView<float> x, int rows, int cols, ArrayView<float> scratch, ArrayView<float> sums)
    {
        GpuChecks.Device(device, nameof(device));
        int scratchLength = ScratchLength(rows, cols);
        GpuChecks.FitsInt((long)rows * cols, "rows * cols");
        GpuChecks.Length(x, (long)rows * cols, nameof(x), "rows * cols");
        GpuChecks.Length(scratch, scratchLength, nameof(scratch), "GpuBias.ScratchLength(rows, cols)");
        GpuChecks.Length(sums, cols, nameof(sums), "one float per column");
        device.Kernel("column-partial-sums", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<float>>(PartialSumsKernel))(scratchLength, x, rows, cols, scratch);
        device.Kernel("column-sums", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<float>>(SumBlocksKernel))(cols, scratch, scratchLength / cols, cols, sums);
    }

    private static void BroadcastKernel(Index1D index, ArrayView<float> bias, int cols, ArrayView<float> y) => y[index] = bias[index % cols];

    /// <summary>Thread (block, column): the float sum of the block's rows, in order.</summary>
    private static void PartialSumsKernel(Index1D index, ArrayView<float> x, int rows, int cols, ArrayView<float> partials)
    {
        int block = index / cols, column = index - block * cols;
        int first = block * BlockRows, last = IntrinsicMath.Min(rows, first + BlockRows);
        float sum = 0f;
        for (int r = first; r < last; r++)
            sum += x[r * cols + column];
        partials[index] = sum;
    }

    /// <summary>Thread column: the blocks' sums in double, in order.</summary>
    private static void SumBlocksKernel(Index1D column, ArrayView<float> partials, int blocks, int cols, ArrayView<float> sums)
    {
        double total = 0;
        for (int b = 0; b < blocks; b++)
            total += partials[b * cols + column];
        sums[column] = (float)total;
    }
}
