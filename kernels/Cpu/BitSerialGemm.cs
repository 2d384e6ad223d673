// Bit-serial GEMM of 2..8-bit activations with 1..8-bit weights on bit planes: exact integer dot products of the
// codes, with the int32, float scale + bias and threshold-bits outputs of the XNOR GEMM, on both cores.

using System.Runtime.CompilerServices;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Low-bit matrix product <c>D[m, n] = Σ_k qa[m, k] * w[n, k]</c> of activation codes qa (A, packed by
/// <see cref="BitPlanes"/>: <c>m</c> rows of <c>activationBits</c> planes, row stride <c>lda</c>) and weight levels
/// <c>w = 2 qw - (2^kw - 1)</c> (B, pre-packed by <see cref="BitSerialPackedB"/>). On the planes a_i of A and
/// w_j of B, <c>D = 2 Σ_{i,j} 2^(i+j) popcount(a_i AND w_j) - (2^kw - 1) Σ_i 2^i popcount(a_i)</c>; the second term
/// depends on the row only and is computed once per row. The real-valued product is
/// <c>D / ((2^ka - 1)(2^kw - 1))</c>: fold that into the scale of <see cref="XnorOutput.ScaleBias"/>.
/// Bits past K must be zero in every plane of A (as <see cref="BitPlanes"/> packs them). Work is split into
/// (block of rows, panel of 16 columns) items run on up to <c>threads</c> cores. A call allocates nothing
/// (its per-row table lives in a buffer of the calling thread that grows to the largest m seen).
/// </summary>
public static unsafe class BitSerialGemm
{
    [ThreadStatic]
    private static int[]? rowOffsetBuffer;

    /// <summary>
    /// Computes <c>D = A · Bᵀ</c> into <paramref name="output"/> (<see cref="XnorOutput.Int32"/>,
    /// <see cref="XnorOutput.ScaleBias"/> or <see cref="XnorOutput.Threshold"/>, applied to D).
    /// </summary>
    public static void Multiply(ReadOnlySpan<ulong> a, int m, int lda, int activationBits, BitSerialPackedB b, XnorOutput output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(b);
        KernelChecks.NonNegative(m, nameof(m));
        BitPlanes.CheckBits(activationBits, BitPlanes.MinActivationBits, nameof(activationBits));
        int rowWords = activationBits * b.KWords;
        if (lda < rowWords)
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least activationBits * B's KWords ({rowWords}).");
        KernelChecks.DotFitsInt32(b.K, activationBits, b.Bits, nameof(b), "split K");
        if (m == 0)
            return;
        KernelChecks.Length(a, (long)(m - 1) * lda + rowWords, nameof(a), "m rows of lda words");
        PanelOutput.Validate(output, m, b.N);
        path = KernelDispatch.Resolve(path);

        if (rowOffsetBuffer is null || rowOffsetBuffer.Length < m)
            rowOffsetBuffer = new int[Math.Max(m, 2 * (rowOffsetBuffer?.Length ?? 0))];

        fixed (ulong* aPtr = a)
        fixed (ulong* bPtr = b.Data)
        fixed (int* rowOffsets = rowOffsetBuffer)
        fixed (int* ints = output.Ints)
        fixed (float* floats = output.Floats)
        fixed (ulong* bits = output.Bits)
        fixed (float* scale = output.Scale)
        fixed (float* bias = output.Bias)
        fixed (int* thresholds = output.Thresholds)
        {
            int weightMax = (1 << b.Bits) - 1;
            for (int row = 0; row < m; row++)
                rowOffsets[row] = weightMax * CodeSum(aPtr + (long)row * lda, b.KWords, activationBits);

            int panels = b.Panels;
            int rowsPerBlock = PanelOutput.RowsPerBlock(rowWords, m, panels, threads);
            int rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;

            var job = new Job
            {
                A = aPtr, Lda = lda, M = m, ActivationBits = activationBits, RowOffsets = rowOffsets,
                B = bPtr + b.Start, N = b.N, KWords = b.KWords, WeightBits = b.Bits,
                Panels = panels, RowsPerBlock = rowsPerBlock, Path = path,
                Output = new PanelOutput
                {
                    Kind = output.Kind, N = b.N, Panels = panels, Stride = output.Stride, Ints = ints, Floats = floats,
                    Bits = bits, Scale = scale, Bias = bias, Thresholds = thresholds,
                },
            };
            KernelParallel.For(rowBlocks * panels, threads, ref job);
        }
    }

    /// <summary><c>Σ_k qa[k] = Σ_i 2^i popcount(a_i)</c> of one packed row.</summary>
    private static int CodeSum(ulong* row, int kWords, int activationBits)
    {
        int sum = 0;
        for (int i = activationBits - 1; i >= 0; i--)
        {
            int plane = 0;
            for (int w = 0; w < kWords; w++)
                plane += (int)ulong.PopCount(row[i * kWords + w]);
            sum = 2 * sum + plane;
        }
        return sum;
    }

    private struct Job : IParallelJob
    {
        public ulong* A;
        public int Lda, M, ActivationBits;
        public int* RowOffsets;
        public ulong* B;
        public int N, KWords, WeightBits, Panels, RowsPerBlock;
        public KernelPath Path;
        public PanelOutput Output;

        public void Run(int index)
        {
            switch (Path)
            {
                case KernelPath.Avx512: RunItem<Avx512BitSerialKernel>(index); break;
                case KernelPath.Avx2: RunItem<Avx2BitSerialKernel>(index); break;
                default: RunItem<ScalarBitSerialKernel>(index); break;
            }
        }

        // Compiled once, fully optimized: tiering and dynamic PGO gave this loop timings that differed by 30 %
        // from one process to the next.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunItem<TKernel>(int index) where TKernel : struct, IBitSerialRowKernel
        {
            const int W = BitSerialPackedB.PanelWidth;
            int panel = index % Panels;
            int rowBlock = index / Panels;
            int rowStart = rowBlock * RowsPerBlock, rowEnd = Math.Min(M, rowStart + RowsPerBlock);
            ulong* panelData = B + (long)panel * WeightBits * KWords * W;
            int* dots = stackalloc int[W];
            for (int row = rowStart; row < rowEnd; row++)
            {
                // A whole panel of int32 output is written in place; anything else goes through the transform.
                int* target = Output.InPlace(row, panel);
                TKernel.RowDots(A + (long)row * Lda, panelData, KWords, ActivationBits, WeightBits, RowOffsets[row], target != null ? target : dots);
                if (target == null)
                    Output.Write(row, panel, dots);
            }
        }
    }
}
