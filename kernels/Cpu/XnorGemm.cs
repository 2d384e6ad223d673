// XNOR-popcount GEMM on packed ±1 operands: C[m, n] = K - 2 * popcount(A[m, :] XOR B[n, :]), with fused
// output transforms (int32, float scale + bias, packed threshold bits), cache blocking and both cores.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Binary matrix product of packed sign rows. A is <c>m</c> rows of <see cref="XnorPackedB.KWords"/> words
/// (row stride <c>lda</c>); B is pre-packed (<see cref="XnorPackedB"/>). For ±1 vectors a and b of K real bits,
/// <c>a · b = K - 2 * popcount(a XOR b)</c>; bits past K are zero in both, so they add nothing.
/// Work is split into (block of rows, panel of 16 columns) items run on up to <c>threads</c> cores.
/// A call allocates nothing.
/// </summary>
public static unsafe class XnorGemm
{
    /// <summary>Computes <c>A ⊙ Bᵀ</c> into <paramref name="output"/>.</summary>
    public static void Multiply(ReadOnlySpan<ulong> a, int m, int lda, XnorPackedB b, XnorOutput output,
        XnorRowCorrection correction = default, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(b);
        KernelChecks.NonNegative(m, nameof(m));
        if (lda < b.KWords)
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least B's KWords ({b.KWords}).");
        if (m == 0)
            return;
        KernelChecks.Length(a, (long)(m - 1) * lda + b.KWords, nameof(a), "m rows of lda words");
        PanelOutput.Validate(output, m, b.N);
        if (correction.IsPresent)
        {
            KernelChecks.Length(correction.RowClass, m, "correction.RowClass", "one class per row of A");
            ValidateCorrection(correction, b.N);
        }
        path = KernelDispatch.Resolve(path);

        fixed (ulong* aPtr = a)
        fixed (ulong* bPtr = b.Data)
        fixed (int* ints = output.Ints)
        fixed (float* floats = output.Floats)
        fixed (ulong* bits = output.Bits)
        fixed (float* scale = output.Scale)
        fixed (float* bias = output.Bias)
        fixed (int* thresholds = output.Thresholds)
        fixed (int* rowClass = correction.RowClass)
        fixed (int* table = correction.Table)
        {
            int panels = b.Panels;
            int rowsPerBlock = PanelOutput.RowsPerBlock(b.KWords, m, panels, threads);
            int rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;

            var job = new Job
            {
                A = aPtr, Lda = lda, M = m, B = bPtr + b.Start, N = b.N, KWords = b.KWords, KBits = b.KBits,
                Panels = panels, RowsPerBlock = rowsPerBlock, Path = path,
                RowClass = correction.IsPresent ? rowClass : null, CorrectionTable = table,
                Output = new PanelOutput
                {
                    Kind = output.Kind, N = b.N, Panels = panels, Stride = output.Stride, Ints = ints, Floats = floats,
                    Bits = bits, Scale = scale, Bias = bias, Thresholds = thresholds,
                },
            };
            KernelParallel.For(rowBlocks * panels, threads, ref job);
        }
    }

    private static void ValidateCorrection(XnorRowCorrection correction, int n)
    {
        int classes = correction.Table.Length / n;
        foreach (int c in correction.RowClass)
            if (c >= classes)
                throw new ArgumentOutOfRangeException(nameof(correction), c,
                    $"A row class ({c}) points past the correction table, which holds {classes} rows of N = {n} ints.");
    }

    private struct Job : IParallelJob
    {
        public ulong* A;
        public int Lda, M;
        public ulong* B;
        public int N, KWords, KBits, Panels, RowsPerBlock;
        public KernelPath Path;
        public int* RowClass, CorrectionTable;
        public PanelOutput Output;

        public void Run(int index)
        {
            switch (Path)
            {
                case KernelPath.Avx512: RunItem<Avx512XnorKernel>(index); break;
                case KernelPath.Avx2: RunItem<Avx2XnorKernel>(index); break;
                default: RunItem<ScalarXnorKernel>(index); break;
            }
        }

        // Compiled once, fully optimized: tiering and dynamic PGO gave this loop timings that differed by 30 %
        // from one process to the next.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunItem<TKernel>(int index) where TKernel : struct, IXnorRowKernel
        {
            const int W = XnorPackedB.PanelWidth;
            int panel = index % Panels;
            int rowBlock = index / Panels;
            int rowStart = rowBlock * RowsPerBlock, rowEnd = Math.Min(M, rowStart + RowsPerBlock);
            ulong* panelData = B + (long)panel * KWords * W;
            uint* counts = stackalloc uint[W];
            int* dots = stackalloc int[W];
            var k = Vector256.Create(KBits);
            for (int row = rowStart; row < rowEnd; row++)
            {
                TKernel.Popcounts(A + (long)row * Lda, panelData, KWords, counts);
                // dot = K - 2 * popcount (+ the row's correction), 8 columns at a time.
                var c0 = Vector256.Load((int*)counts);
                var c1 = Vector256.Load((int*)counts + 8);
                var dot0 = k - (c0 + c0);
                var dot1 = k - (c1 + c1);
                if (RowClass != null && RowClass[row] >= 0)
                {
                    // The table row holds N ints: the last, partial panel adds its columns one by one.
                    int* correction = CorrectionTable + (long)RowClass[row] * N + panel * W;
                    int cols = Math.Min(W, N - panel * W);
                    if (cols == W)
                    {
                        (dot0 + Vector256.Load(correction)).Store(dots);
                        (dot1 + Vector256.Load(correction + 8)).Store(dots + 8);
                    }
                    else
                    {
                        dot0.Store(dots);
                        dot1.Store(dots + 8);
                        for (int j = 0; j < cols; j++)
                            dots[j] += correction[j];
                    }
                }
                else
                {
                    int* target = Output.InPlace(row, panel);
                    if (target != null)
                    {
                        dot0.Store(target);
                        dot1.Store(target + 8);
                        continue;
                    }
                    dot0.Store(dots);
                    dot1.Store(dots + 8);
                }
                Output.Write(row, panel, dots);
            }
        }
    }
}
