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
    /// <summary>Bytes of A one work item reads; keeps a block of A in L1/L2 while a panel of B stays in L1.</summary>
    private const int RowBlockBytes = 32 * 1024;

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
        ValidateOutput(output, m, b.N);
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
            int rowsPerBlock = Math.Clamp(RowBlockBytes / (b.KWords * 8), 1, 256);
            int maxThreads = threads <= 0 ? KernelParallel.MaxThreads : threads;
            while (rowsPerBlock > 1 && (long)((m + rowsPerBlock - 1) / rowsPerBlock) * panels < 4L * maxThreads)
                rowsPerBlock >>= 1;
            int rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;

            var job = new Job
            {
                A = aPtr, Lda = lda, M = m, B = bPtr, N = b.N, KWords = b.KWords, KBits = b.KBits,
                Panels = panels, RowsPerBlock = rowsPerBlock, Kind = output.Kind, Path = path,
                Ints = ints, Floats = floats, Bits = bits, Stride = output.Stride,
                Scale = scale, Bias = bias, Thresholds = thresholds,
                RowClass = correction.IsPresent ? rowClass : null, CorrectionTable = table,
            };
            KernelParallel.For(rowBlocks * panels, threads, ref job);
        }
    }

    private static void ValidateOutput(XnorOutput output, int m, int n)
    {
        switch (output.Kind)
        {
            case XnorOutputKind.Int32:
                if (output.Stride < n)
                    throw new ArgumentOutOfRangeException(nameof(output), output.Stride, $"The int32 output's ldc must be at least N ({n}).");
                KernelChecks.Length(output.Ints, (long)(m - 1) * output.Stride + n, "output", "m rows of ldc ints");
                break;
            case XnorOutputKind.ScaleBias:
                if (output.Stride < n)
                    throw new ArgumentOutOfRangeException(nameof(output), output.Stride, $"The float output's ldc must be at least N ({n}).");
                KernelChecks.Length(output.Floats, (long)(m - 1) * output.Stride + n, "output", "m rows of ldc floats");
                KernelChecks.Length(output.Scale, n, "scale", "one per column");
                KernelChecks.Length(output.Bias, n, "bias", "one per column");
                break;
            default:
                int words = (n + 63) / 64;
                if (output.Stride < words)
                    throw new ArgumentOutOfRangeException(nameof(output), output.Stride, $"The packed output's ldWords must be at least ceil(N / 64) ({words}).");
                KernelChecks.Length(output.Bits, (long)(m - 1) * output.Stride + words, "output", "m rows of ldWords words");
                KernelChecks.Length(output.Thresholds, n, "threshold", "one per column");
                break;
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
        public XnorOutputKind Kind;
        public KernelPath Path;
        public int* Ints;
        public float* Floats;
        public ulong* Bits;
        public int Stride;
        public float* Scale, Bias;
        public int* Thresholds;
        public int* RowClass, CorrectionTable;

        public void Run(int index)
        {
            switch (Path)
            {
                case KernelPath.Avx512: RunItem<Avx512XnorKernel>(index); break;
                case KernelPath.Avx2: RunItem<Avx2XnorKernel>(index); break;
                default: RunItem<ScalarXnorKernel>(index); break;
            }
        }

        private void RunItem<TKernel>(int index) where TKernel : struct, IXnorRowKernel
        {
            const int W = XnorPackedB.PanelWidth;
            int panel = index % Panels;
            int rowBlock = index / Panels;
            int rowStart = rowBlock * RowsPerBlock, rowEnd = Math.Min(M, rowStart + RowsPerBlock);
            int colStart = panel * W, cols = Math.Min(W, N - colStart);
            ulong* panelData = B + (long)panel * KWords * W;
            uint* counts = stackalloc uint[W];
            for (int row = rowStart; row < rowEnd; row++)
            {
                TKernel.Popcounts(A + (long)row * Lda, panelData, KWords, counts);
                int* correction = RowClass != null && RowClass[row] >= 0 ? CorrectionTable + (long)RowClass[row] * N + colStart : null;
                if (cols == W)
                    WriteFullPanel(row, colStart, counts, correction, panel);
                else
                    WritePartialPanel(row, colStart, cols, counts, correction, panel);
            }
        }

        /// <summary>Output transform of 16 columns with 8-lane vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void WriteFullPanel(int row, int colStart, uint* counts, int* correction, int panel)
        {
            var k = Vector256.Create(KBits);
            var c0 = Vector256.Load((int*)counts);
            var c1 = Vector256.Load((int*)counts + 8);
            var dot0 = k - (c0 + c0);
            var dot1 = k - (c1 + c1);
            if (correction != null)
            {
                dot0 += Vector256.Load(correction);
                dot1 += Vector256.Load(correction + 8);
            }
            switch (Kind)
            {
                case XnorOutputKind.Int32:
                {
                    int* c = Ints + (long)row * Stride + colStart;
                    dot0.Store(c);
                    dot1.Store(c + 8);
                    break;
                }
                case XnorOutputKind.ScaleBias:
                {
                    float* c = Floats + (long)row * Stride + colStart;
                    (Vector256.Load(Scale + colStart) * Vector256.ConvertToSingle(dot0) + Vector256.Load(Bias + colStart)).Store(c);
                    (Vector256.Load(Scale + colStart + 8) * Vector256.ConvertToSingle(dot1) + Vector256.Load(Bias + colStart + 8)).Store(c + 8);
                    break;
                }
                default:
                {
                    uint low = Vector256.LessThan(dot0, Vector256.Load(Thresholds + colStart)).ExtractMostSignificantBits();
                    uint high = Vector256.LessThan(dot1, Vector256.Load(Thresholds + colStart + 8)).ExtractMostSignificantBits();
                    StoreBits(row, panel, (ushort)(low | (high << 8)));
                    break;
                }
            }
        }

        /// <summary>Output transform of the last, partial panel, one column at a time.</summary>
        private void WritePartialPanel(int row, int colStart, int cols, uint* counts, int* correction, int panel)
        {
            uint bitsOut = 0;
            for (int j = 0; j < cols; j++)
            {
                int dot = KBits - 2 * (int)counts[j] + (correction != null ? correction[j] : 0);
                switch (Kind)
                {
                    case XnorOutputKind.Int32:
                        Ints[(long)row * Stride + colStart + j] = dot;
                        break;
                    case XnorOutputKind.ScaleBias:
                        Floats[(long)row * Stride + colStart + j] = Scale[colStart + j] * dot + Bias[colStart + j];
                        break;
                    default:
                        bitsOut |= (dot < Thresholds[colStart + j] ? 1u : 0u) << j;
                        break;
                }
            }
            if (Kind == XnorOutputKind.Threshold)
                StoreBits(row, panel, (ushort)bitsOut);
        }

        /// <summary>
        /// Writes the 16 bits of one panel: 2 bytes of the row, so stores from different panels never race. The last
        /// panel also zeroes the rest of the row's last word.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreBits(int row, int panel, ushort bits)
        {
            byte* rowBytes = (byte*)(Bits + (long)row * Stride);
            *(ushort*)(rowBytes + panel * 2) = bits;
            if (panel == Panels - 1)
            {
                int rowBytesTotal = ((N + 63) / 64) * 8;
                for (int z = Panels * 2; z < rowBytesTotal; z++)
                    rowBytes[z] = 0;
            }
        }
    }
}
