// Float32 GEMM, C = alpha * op(A) * op(B) + beta * C, row-major, in the GotoBLAS/BLIS structure: packed panels,
// KC/MC/NC cache blocking, a register-blocked FMA micro-kernel per path, and both cores.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Single-precision matrix product on row-major matrices. op(A) is m × k, op(B) is k × n, C is m × n.
/// <para>
/// Loops (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", 2008; BLIS): for each
/// NC-wide block of columns and KC-deep slice of K, B is packed into NR-column micro-panels (KC × NC, kept in
/// L3) by all threads; then each work item packs an MC-row block of A (times alpha) into MR-row micro-panels
/// (MC × KC, kept in L2) and runs the micro-kernel over its share of B's micro-panels (each KC × NR, kept in
/// L1) and A's micro-panels. Work items are (block of A, range of B micro-panels), so two threads share even
/// short matrices. Packing buffers are allocated once per thread and reused: a call allocates nothing in
/// steady state.
/// </para>
/// <para>
/// Micro-kernels (register tiles, MR × NR): Scalar 4 × 4 scalar FMAs; Avx2 6 × 16 in 12 ymm accumulators;
/// Avx512 6 × 32 in 12 zmm accumulators. Blocks: KC = 256, MC = 144 (128 scalar), NC ≈ 4096, sized for a 32 KB
/// L1d, 512 KB L2 per core and a shared 32 MB L3.
/// </para>
/// </summary>
public static unsafe class Sgemm
{
    /// <summary>Below this many multiply-adds a product runs on one thread: waking a worker costs more.</summary>
    private const long ParallelThreshold = 64L * 64 * 64;

    [ThreadStatic] private static float[]? packedABuffer;
    [ThreadStatic] private static float[]? packedBBuffer;

    /// <summary>
    /// Computes <c>C = alpha * op(A) * op(B) + beta * C</c>, where op(X) is X or Xᵀ. When <paramref name="beta"/>
    /// is 0, C's old contents are ignored (NaN included). A is stored as m rows of k (k rows of m when
    /// <paramref name="transposeA"/>) with row stride <paramref name="lda"/>; likewise B (k × n, or n × k
    /// transposed) with <paramref name="ldb"/>, and C (m × n) with <paramref name="ldc"/>.
    /// </summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        KernelChecks.NonNegative(m, nameof(m));
        KernelChecks.NonNegative(n, nameof(n));
        KernelChecks.NonNegative(k, nameof(k));
        CheckMatrix(a, transposeA ? k : m, transposeA ? m : k, lda, nameof(a), nameof(lda), transposeA ? "k × m (transposed)" : "m × k");
        CheckMatrix(b, transposeB ? n : k, transposeB ? k : n, ldb, nameof(b), nameof(ldb), transposeB ? "n × k (transposed)" : "k × n");
        CheckMatrix(c, m, n, ldc, nameof(c), nameof(ldc), "m × n");
        path = KernelDispatch.Resolve(path);
        if (m == 0 || n == 0)
            return;

        fixed (float* aPtr = a)
        fixed (float* bPtr = b)
        fixed (float* cPtr = c)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleC(cPtr, m, n, ldc, beta);
                return;
            }
            var problem = new Problem
            {
                A = aPtr, Lda = lda, TransposeA = transposeA, B = bPtr, Ldb = ldb, TransposeB = transposeB,
                C = cPtr, Ldc = ldc, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                Threads = (long)m * n * k < ParallelThreshold ? 1 : threads,
            };
            switch (path)
            {
                case KernelPath.Avx512: Run<Avx512SgemmKernel>(ref problem); break;
                case KernelPath.Avx2: Run<Avx2SgemmKernel>(ref problem); break;
                default: Run<ScalarSgemmKernel>(ref problem); break;
            }
        }
    }

    private static void CheckMatrix(ReadOnlySpan<float> span, int rows, int cols, int stride, string name, string strideName, string what)
    {
        if (stride < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(strideName, stride,
                $"{strideName} must be at least the row length of {name} ({Math.Max(1, cols)}; {name} is {what}).");
        long required = (long)(rows - 1) * stride + cols;
        if (rows > 0 && cols > 0 && span.Length < required)
            throw new ArgumentException(
                $"{name} holds {span.Length} elements but needs at least {required} ({rows} rows of {strideName} = {stride}; {name} is {what}).", name);
    }

    private static void ScaleC(float* c, int m, int n, int ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            float* row = c + (long)i * ldc;
            if (beta == 0f)
                new Span<float>(row, n).Clear();
            else if (beta != 1f)
                for (int j = 0; j < n; j++)
                    row[j] *= beta;
        }
    }

    /// <summary>The operands and sizes of one call.</summary>
    private struct Problem
    {
        public float* A, B, C;
        public int Lda, Ldb, Ldc, M, N, K, Threads;
        public bool TransposeA, TransposeB;
        public float Alpha, Beta;
    }

    private static void Run<TKernel>(ref Problem problem) where TKernel : struct, ISgemmKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int threads = problem.Threads <= 0 ? KernelParallel.MaxThreads : Math.Min(problem.Threads, KernelParallel.MaxThreads);

        // Even blocks of A: ceil(m / MC) blocks of nearly equal height, rounded up to whole micro-panels. With several
        // threads, a whole number of blocks per thread where blocks keep at least 4 micro-panels, so that no thread
        // waits on a last odd block.
        int aBlocks = (problem.M + TKernel.MC - 1) / TKernel.MC;
        if (threads > 1)
            aBlocks = Math.Max(aBlocks, Math.Min(RoundUp(aBlocks, threads), (problem.M + 4 * mr - 1) / (4 * mr)));
        int mc = RoundUp((problem.M + aBlocks - 1) / aBlocks, mr);
        aBlocks = (problem.M + mc - 1) / mc;
        int ncMax = Math.Min(TKernel.NC, RoundUp(problem.N, nr));
        float* packedB = Buffer(ref packedBBuffer, TKernel.KC * ncMax);

        for (int jc = 0; jc < problem.N; jc += TKernel.NC)
        {
            int nc = Math.Min(TKernel.NC, problem.N - jc);
            int bPanels = (nc + nr - 1) / nr;
            // With fewer than 2 blocks of A per thread, split B's micro-panels too (each such item packs its block of
            // A again, which is cheap next to the product) so that the threads get equal shares.
            int bSplits = threads == 1 ? 1 : Math.Clamp((2 * threads + aBlocks - 1) / aBlocks, 1, Math.Max(1, bPanels / 4));
            for (int pc = 0; pc < problem.K; pc += TKernel.KC)
            {
                int kc = Math.Min(TKernel.KC, problem.K - pc);
                var pack = new PackBJob<TKernel>
                {
                    B = problem.B, Ldb = problem.Ldb, TransposeB = problem.TransposeB, Packed = packedB,
                    Row = pc, Column = jc, Kc = kc, Nc = nc,
                };
                KernelParallel.For((bPanels + PackBJob<TKernel>.PanelsPerItem - 1) / PackBJob<TKernel>.PanelsPerItem, threads, ref pack);

                var compute = new ComputeJob<TKernel>
                {
                    Problem = problem, PackedB = packedB, Pc = pc, Jc = jc, Kc = kc, Nc = nc, Mc = mc,
                    BPanels = bPanels, BSplits = bSplits, Beta = pc == 0 ? problem.Beta : 1f,
                };
                KernelParallel.For(aBlocks * bSplits, threads, ref compute);
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>A 64-byte-aligned pointer into this thread's pinned buffer of at least <paramref name="length"/> floats.</summary>
    private static float* Buffer(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length + 16)
            buffer = GC.AllocateUninitializedArray<float>(length + 16, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((start + 63) & ~(nint)63);
    }

    /// <summary>Packs op(B)[Row .. Row + Kc, Column .. Column + Nc] into NR-column micro-panels, zero-padded.</summary>
    private struct PackBJob<TKernel> : IParallelJob where TKernel : struct, ISgemmKernel
    {
        public const int PanelsPerItem = 8;
        public float* B, Packed;
        public int Ldb, Row, Column, Kc, Nc;
        public bool TransposeB;

        public void Run(int index)
        {
            int nr = TKernel.NR;
            int first = index * PanelsPerItem, end = Math.Min((Nc + nr - 1) / nr, first + PanelsPerItem);
            for (int panel = first; panel < end; panel++)
            {
                int j0 = panel * nr, cols = Math.Min(nr, Nc - j0);
                float* dst = Packed + (long)panel * nr * Kc;
                if (!TransposeB)
                {
                    float* src = B + (long)Row * Ldb + Column + j0;
                    for (int p = 0; p < Kc; p++, src += Ldb, dst += nr)
                    {
                        Unsafe.CopyBlockUnaligned(dst, src, (uint)(cols * sizeof(float)));
                        for (int j = cols; j < nr; j++)
                            dst[j] = 0f;
                    }
                }
                else
                {
                    for (int j = 0; j < cols; j++)
                    {
                        float* src = B + (long)(Column + j0 + j) * Ldb + Row;
                        for (int p = 0; p < Kc; p++)
                            dst[p * nr + j] = src[p];
                    }
                    for (int j = cols; j < nr; j++)
                        for (int p = 0; p < Kc; p++)
                            dst[p * nr + j] = 0f;
                }
            }
        }
    }

    /// <summary>One work item: packs an MC-row block of A, then runs the micro-kernel over a range of B's micro-panels.</summary>
    private struct ComputeJob<TKernel> : IParallelJob where TKernel : struct, ISgemmKernel
    {
        public Problem Problem;
        public float* PackedB;
        public int Pc, Jc, Kc, Nc, Mc, BPanels, BSplits;
        public float Beta;

        public void Run(int index)
        {
            int mr = TKernel.MR, nr = TKernel.NR;
            int block = index / BSplits, split = index % BSplits;
            int i0 = block * Mc, rows = Math.Min(Mc, Problem.M - i0);
            int firstPanel = split * BPanels / BSplits, endPanel = (split + 1) * BPanels / BSplits;

            float* packedA = Buffer(ref packedABuffer, TKernel.MC * TKernel.KC);
            for (int ir = 0; ir < rows; ir += mr)
                PackA(packedA + (long)ir * Kc, i0 + ir, Math.Min(mr, rows - ir));

            for (int panel = firstPanel; panel < endPanel; panel++)
            {
                int j = panel * nr, cols = Math.Min(nr, Nc - j);
                float* bPanel = PackedB + (long)panel * nr * Kc;
                float* cColumn = Problem.C + Jc + j;
                for (int ir = 0; ir < rows; ir += mr)
                    TKernel.Tile(packedA + (long)ir * Kc, bPanel, Kc, cColumn + (long)(i0 + ir) * Problem.Ldc, Problem.Ldc,
                        Beta, Math.Min(mr, rows - ir), cols);
            }
        }

        /// <summary>Packs alpha * op(A)[row .. row + count, Pc .. Pc + Kc] as one MR-row micro-panel, zero-padded.</summary>
        private readonly void PackA(float* dst, int row, int count)
        {
            int mr = TKernel.MR;
            float alpha = Problem.Alpha;
            if (!Problem.TransposeA)
            {
                // K step outer: the writes are contiguous and the MR source rows are read as parallel streams.
                float* src = Problem.A + (long)row * Problem.Lda + Pc;
                long lda = Problem.Lda;
                int packed = count == mr ? TKernel.PackRows(dst, src, lda, Kc, alpha) : 0;
                dst += (long)packed * mr;
                for (int p = packed; p < Kc; p++, dst += mr)
                {
                    for (int i = 0; i < count; i++)
                        dst[i] = alpha * src[i * lda + p];
                    for (int i = count; i < mr; i++)
                        dst[i] = 0f;
                }
            }
            else
            {
                float* src = Problem.A + (long)Pc * Problem.Lda + row;
                for (int p = 0; p < Kc; p++, src += Problem.Lda, dst += mr)
                {
                    for (int i = 0; i < count; i++)
                        dst[i] = alpha * src[i];
                    for (int i = count; i < mr; i++)
                        dst[i] = 0f;
                }
            }
        }
    }
}
