// Writes GEMM dot products one 16-column panel at a time into an XnorOutput (int32, float scale + bias, packed
// threshold bits); shared by the XNOR and bit-serial GEMMs, with the work split they share.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>The pinned destination of a GEMM: where row m's panel p of dot products goes, and how it is transformed.</summary>
internal unsafe struct PanelOutput
{
    /// <summary>Columns per panel (both GEMMs' packed B use the same width).</summary>
    public const int Width = XnorPackedB.PanelWidth;

    /// <summary>Bytes of A one work item reads: a block of A stays in L1/L2 while a panel of B stays in L1.</summary>
    private const int RowBlockBytes = 32 * 1024;

    public XnorOutputKind Kind;
    public int N, Panels, Stride;
    public int* Ints;
    public float* Floats;
    public ulong* Bits;
    public float* Scale, Bias;
    public int* Thresholds;

    /// <summary>
    /// With <see cref="XnorOutputKind.ScaleBias"/>: null, or a per-column scale and shift applied to each
    /// <c>scale * dot + bias</c> value after it is rounded to float (a BatchNorm in evaluation mode after the layer).
    /// </summary>
    public float* NormScale, NormShift;

    /// <summary>Checks that <paramref name="output"/> can take <paramref name="m"/> rows of <paramref name="n"/> columns.</summary>
    public static void Validate(XnorOutput output, int m, int n)
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

    /// <summary>
    /// Rows per work item: about <see cref="RowBlockBytes"/> of A, halved until there are at least 4 items per
    /// thread (when the matrix is that large).
    /// </summary>
    public static int RowsPerBlock(int rowWords, int m, int panels, int threads)
    {
        int rows = Math.Clamp(RowBlockBytes / (rowWords * 8), 1, 256);
        int maxThreads = threads <= 0 ? KernelParallel.MaxThreads : threads;
        while (rows > 1 && (long)((m + rows - 1) / rows) * panels < 4L * maxThreads)
            rows >>= 1;
        return rows;
    }

    /// <summary>Where an int32 panel of row <paramref name="row"/> can be written directly, or null when it needs <see cref="Write"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int* InPlace(int row, int panel)
        => Kind == XnorOutputKind.Int32 && (panel + 1) * Width <= N ? Ints + (long)row * Stride + panel * Width : null;

    /// <summary>Writes the 16 dot products of row <paramref name="row"/>, panel <paramref name="panel"/> (fewer in the last panel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Write(int row, int panel, int* dots)
    {
        int colStart = panel * Width;
        if (colStart + Width <= N)
            WriteFull(row, panel, colStart, dots);
        else
            WritePartial(row, panel, colStart, N - colStart, dots);
    }

    /// <summary>Output transform of 16 columns with 8-lane vectors (multiply, then add: no fused multiply-add, like the scalar path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void WriteFull(int row, int panel, int colStart, int* dots)
    {
        var dot0 = Vector256.Load(dots);
        var dot1 = Vector256.Load(dots + 8);
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
                var value0 = Vector256.Load(Scale + colStart) * Vector256.ConvertToSingle(dot0) + Vector256.Load(Bias + colStart);
                var value1 = Vector256.Load(Scale + colStart + 8) * Vector256.ConvertToSingle(dot1) + Vector256.Load(Bias + colStart + 8);
                if (NormScale != null)
                {
                    value0 = value0 * Vector256.Load(NormScale + colStart) + Vector256.Load(NormShift + colStart);
                    value1 = value1 * Vector256.Load(NormScale + colStart + 8) + Vector256.Load(NormShift + colStart + 8);
                }
                value0.Store(c);
                value1.Store(c + 8);
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
    private readonly void WritePartial(int row, int panel, int colStart, int cols, int* dots)
    {
        uint bitsOut = 0;
        for (int j = 0; j < cols; j++)
        {
            switch (Kind)
            {
                case XnorOutputKind.Int32:
                    Ints[(long)row * Stride + colStart + j] = dots[j];
                    break;
                case XnorOutputKind.ScaleBias:
                    float value = Scale[colStart + j] * dots[j] + Bias[colStart + j];
                    if (NormScale != null)
                        value = value * NormScale[colStart + j] + NormShift[colStart + j];
                    Floats[(long)row * Stride + colStart + j] = value;
                    break;
                default:
                    bitsOut |= (dots[j] < Thresholds[colStart + j] ? 1u : 0u) << j;
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
    private readonly void StoreBits(int row, int panel, ushort bits)
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
