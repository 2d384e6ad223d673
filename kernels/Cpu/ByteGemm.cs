// Byte-wise low-bit GEMM for activations and weights of at most 4 bits: u8 activation codes times s8 weight levels,
// the same exact integer dot products as the bit-serial GEMM, with its int32, scale + bias and threshold outputs.
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Low-bit matrix product <c>D[m, n] = Σ_k qa[m, k] * w[n, k]</c> of activation codes <c>qa</c> in
/// <c>[0, 2^ka - 1]</c> (A: one byte per code, row-major, row stride <c>lda</c> bytes) and weight levels
/// <c>w = 2 qw - (2^kw - 1)</c> (B, pre-packed by <see cref="BytePackedB"/>): the dot products
/// <see cref="BitSerialGemm"/> computes on bit planes, for <c>ka</c> in 2..4 and <c>kw</c> in 1..4, at a cost that
/// does not grow with the widths (the bit-serial GEMM costs ka × kw binary GEMMs).
/// <para>
/// Exactness: <c>vpmaddubsw</c> adds two products into an int16 and saturates above 32767; a pair is at most
/// <c>P = 2 (2^ka - 1)(2^kw - 1) ≤ 450</c> in magnitude, so it never does, and int16 accumulators take
/// <see cref="Int16Groups"/> = <c>floor(32767 / P)</c> groups of 4 codes (72 at 4 × 4 bits, 1820 at 2 × 2) before
/// they are widened into int32. A code above <c>2^ka - 1</c> would break that bound, so every call checks A's codes.
/// Where the processor has AVX-VNNI, <c>vpdpbusd</c> adds the products of 4 codes straight into int32 (no int16
/// stage). The AVX-512 path runs the 256-bit kernels (no 512-bit tile yet).
/// </para>
/// Work is split into (block of rows, panel of 16 columns) items run on up to <c>threads</c> cores; each item runs
/// a 6-row × 16-column register tile along the whole K. A call allocates nothing.
/// </summary>
public static unsafe class ByteGemm
{
    /// <summary>Fewest bits of an activation code.</summary>
    public const int MinActivationBits = BitPlanes.MinActivationBits;

    /// <summary>Most bits of an activation code or weight.</summary>
    public const int MaxBits = BytePackedB.MaxBits;

    /// <summary>
    /// Bytes of A one work item reads: a block of rows (half of a 512 KiB L2) stays in L2 while its panel is read from
    /// memory once and reused by every tile of the block. Blocks of a few tiles made each panel of a long-K layer
    /// (16 × 4608 bytes at 512 channels, 3 × 3) come from L3 once per tile: 9 % slower at 4 × 4 × 512.
    /// </summary>
    private const int RowBlockBytes = 256 * 1024;

    /// <summary>Whether <paramref name="activationBits"/> × <paramref name="weightBits"/> codes fit the byte GEMM (2..4 × 1..4).</summary>
    public static bool Supports(int activationBits, int weightBits)
        => activationBits is >= MinActivationBits and <= MaxBits && weightBits is >= 1 and <= MaxBits;

    /// <summary>
    /// Groups of 4 codes an int16 accumulator takes without overflow: <c>floor(32767 / (2 (2^ka - 1)(2^kw - 1)))</c>.
    /// </summary>
    public static int Int16Groups(int activationBits, int weightBits)
        => short.MaxValue / (2 * ((1 << activationBits) - 1) * ((1 << weightBits) - 1));

    /// <summary>
    /// Computes <c>D = A · Bᵀ</c> into <paramref name="output"/> (<see cref="XnorOutput.Int32"/>,
    /// <see cref="XnorOutput.ScaleBias"/> or <see cref="XnorOutput.Threshold"/>, applied to D, as
    /// <see cref="BitSerialGemm"/> applies them). <paramref name="a"/>: <paramref name="m"/> rows of B's K codes of
    /// <paramref name="activationBits"/> bits, row r at byte <c>r * lda</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A code of A exceeds <c>2^activationBits - 1</c>, or a size does not fit.</exception>
    public static void Multiply(ReadOnlySpan<byte> a, int m, int lda, int activationBits, BytePackedB b, XnorOutput output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(b);
        KernelChecks.NonNegative(m, nameof(m));
        CheckActivationBits(activationBits);
        if (lda < b.K)
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least B's K ({b.K}).");
        KernelChecks.DotFitsInt32(b.K, activationBits, b.Bits, nameof(b), "split K");
        if (m == 0)
            return;
        KernelChecks.Length(a, (long)(m - 1) * lda + b.K, nameof(a), "m rows of lda bytes");
        PanelOutput.Validate(output, m, b.N);
        path = KernelDispatch.Resolve(path);

        fixed (byte* aPtr = a)
        fixed (ulong* bPtr = b.Data)
        fixed (int* ints = output.Ints)
        fixed (float* floats = output.Floats)
        fixed (ulong* bits = output.Bits)
        fixed (float* scale = output.Scale)
        fixed (float* bias = output.Bias)
        fixed (int* thresholds = output.Thresholds)
        {
            CheckCodes(aPtr, m, lda, b.K, activationBits);
            int panels = b.Panels;
            int rowsPerBlock = RowsPerBlock(b.K, m, panels, threads);
            int rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;
            var job = new ByteTileJob<RowStarts>
            {
                Rows = new RowStarts { A = aPtr, Lda = lda }, M = m, Segments = 1,
                SegmentGroups = b.K / BytePackedB.GroupSize, TailCodes = b.K % BytePackedB.GroupSize, Chunk = Int16Groups(activationBits, b.Bits),
                B = (sbyte*)(bPtr + b.Start), PanelBytes = b.PanelBytes, Panels = panels, RowsPerBlock = rowsPerBlock, Path = path,
                Output = new PanelOutput
                {
                    Kind = output.Kind, N = b.N, Panels = panels, Stride = output.Stride, Ints = ints, Floats = floats,
                    Bits = bits, Scale = scale, Bias = bias, Thresholds = thresholds,
                },
            };
            KernelParallel.For(rowBlocks * panels, threads, ref job);
        }
    }

    /// <summary>Throws unless <paramref name="activationBits"/> lies in <see cref="MinActivationBits"/>..<see cref="MaxBits"/>.</summary>
    internal static void CheckActivationBits(int activationBits)
    {
        if (activationBits is < MinActivationBits or > MaxBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits,
                $"activationBits must lie in {MinActivationBits}..{MaxBits} (wider codes use BitSerialGemm).");
    }

    /// <summary>
    /// Rows per work item, a multiple of the 6-row tile: about <see cref="RowBlockBytes"/> of A, halved until
    /// there are at least 4 items per thread (when the matrix is that large).
    /// </summary>
    internal static int RowsPerBlock(int k, int m, int panels, int threads)
    {
        const int T = ByteGemmTile.Rows;
        int tiles = Math.Clamp(RowBlockBytes / (k * T), 1, 256);
        int maxThreads = threads <= 0 ? KernelParallel.MaxThreads : threads;
        while (tiles > 1 && (long)((m + tiles * T - 1) / (tiles * T)) * panels < 4L * maxThreads)
            tiles >>= 1;
        return tiles * T;
    }

    /// <summary>Throws when a code among the first <paramref name="k"/> bytes of a row does not fit in <paramref name="bits"/> bits.</summary>
    private static void CheckCodes(byte* a, int m, int lda, int k, int bits)
    {
        var seen = Vector256<byte>.Zero;
        int tail = 0;
        for (int r = 0; r < m; r++)
        {
            byte* row = a + (long)r * lda;
            int c = 0;
            for (; c + 32 <= k; c += 32)
                seen |= Vector256.Load(row + c);
            for (; c < k; c++)
                tail |= row[c];
        }
        if ((OrLanes(seen) | tail) >> bits != 0)
            throw new ArgumentException($"a holds a code above {(1 << bits) - 1}, the largest {bits}-bit activation code.", "a");
    }

    /// <summary>The OR of the 32 bytes of <paramref name="value"/>.</summary>
    private static int OrLanes(Vector256<byte> value)
    {
        ulong folded = value.AsUInt64().GetElement(0) | value.AsUInt64().GetElement(1) | value.AsUInt64().GetElement(2) | value.AsUInt64().GetElement(3);
        folded |= folded >> 32;
        folded |= folded >> 16;
        folded |= folded >> 8;
        return (int)(folded & 0xFF);
    }

    /// <summary>Row r of A starts at <c>A + r * Lda</c>.</summary>
    private struct RowStarts : IByteRowStarts
    {
        public byte* A;
        public int Lda;

        public readonly void Fill(int first, int count, byte** rows)
        {
            byte* row = A + (long)first * Lda;
            for (int r = 0; r < count; r++, row += Lda)
                rows[r] = row;
        }
    }
}
