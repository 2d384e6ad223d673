// Deterministic per-column sums of a row-major matrix (bias gradients: Σ over batch and positions of dy).
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>sums[c] = Σ_r data[r * cols + c]</c>. Rows are cut into fixed blocks of <see cref="BlockRows"/> that may run
/// in parallel, each summed in float; the block sums are then added in order in double. The partitioning does not
/// depend on the thread count, so the result is the same bit for bit on every run.
/// </summary>
internal static unsafe class ColumnSums
{
    /// <summary>Rows per block.</summary>
    public const int BlockRows = 256;

    /// <summary>Floats of scratch <see cref="Sum"/> needs for <paramref name="rows"/> × <paramref name="cols"/>.</summary>
    public static int PartialsLength(int rows, int cols) => (rows + BlockRows - 1) / BlockRows * cols;

    /// <summary>Writes the column sums into <paramref name="sums"/>, using <paramref name="partials"/> (<see cref="PartialsLength"/> floats).</summary>
    public static void Sum(ReadOnlySpan<float> data, int rows, int cols, Span<float> sums, Span<float> partials, int threads)
    {
        int blocks = (rows + BlockRows - 1) / BlockRows;
        fixed (float* dataPtr = data)
        fixed (float* partialsPtr = partials)
        {
            var job = new Job { Data = dataPtr, Partials = partialsPtr, Rows = rows, Cols = cols };
            KernelParallel.For(blocks, threads, ref job);
        }
        for (int c = 0; c < cols; c++)
        {
            double total = 0;
            for (int b = 0; b < blocks; b++)
                total += partials[b * cols + c];
            sums[c] = (float)total;
        }
    }

    private struct Job : IParallelJob
    {
        public float* Data, Partials;
        public int Rows, Cols;

        public readonly void Run(int index)
        {
            int first = index * BlockRows, count = Math.Min(BlockRows, Rows - first);
            float* sums = Partials + (long)index * Cols;
            float* row = Data + (long)first * Cols;
            new Span<float>(sums, Cols).Clear();
            for (int r = 0; r < count; r++, row += Cols)
            {
                int c = 0;
                for (; c + 8 <= Cols; c += 8)
                    (Vector256.Load(sums + c) + Vector256.Load(row + c)).Store(sums + c);
                for (; c < Cols; c++)
                    sums[c] += row[c];
            }
        }
    }
}
