// Where the XNOR GEMM writes its result: raw int32 dot products, floats through a per-column scale and
// bias, or packed sign bits through a per-column integer threshold.
namespace BnnDsl.Kernels.Cpu;

/// <summary>The output transform of an XNOR GEMM.</summary>
public enum XnorOutputKind
{
    /// <summary><c>C[m, n] = dot</c> as int32.</summary>
    Int32,
    /// <summary><c>C[m, n] = scale[n] * dot + bias[n]</c> as float.</summary>
    ScaleBias,
    /// <summary>Packed bit n of row m is 0 (+1) when <c>dot &gt;= threshold[n]</c>, else 1 (-1).</summary>
    Threshold,
}

/// <summary>
/// Describes the output of <see cref="XnorGemm.Multiply"/>. Strides count elements of the output type between
/// rows (words for <see cref="XnorOutputKind.Threshold"/>, which needs at least <c>ceil(N / 64)</c> words per
/// row; every bit past column N in those words is written as zero).
/// </summary>
public readonly ref struct XnorOutput
{
    internal readonly XnorOutputKind Kind;
    internal readonly Span<int> Ints;
    internal readonly Span<float> Floats;
    internal readonly Span<ulong> Bits;
    internal readonly int Stride;
    internal readonly ReadOnlySpan<float> Scale;
    internal readonly ReadOnlySpan<float> Bias;
    internal readonly ReadOnlySpan<int> Thresholds;

    private XnorOutput(XnorOutputKind kind, Span<int> ints, Span<float> floats, Span<ulong> bits, int stride,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<int> thresholds)
    {
        Kind = kind;
        Ints = ints;
        Floats = floats;
        Bits = bits;
        Stride = stride;
        Scale = scale;
        Bias = bias;
        Thresholds = thresholds;
    }

    /// <summary>Raw dot products, row m at <c>c[m * ldc]</c>.</summary>
    public static XnorOutput Int32(Span<int> c, int ldc)
        => new(XnorOutputKind.Int32, c, default, default, ldc, default, default, default);

    /// <summary><c>scale[n] * dot + bias[n]</c>, row m at <c>c[m * ldc]</c>.</summary>
    public static XnorOutput ScaleBias(Span<float> c, int ldc, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias)
        => new(XnorOutputKind.ScaleBias, default, c, default, ldc, scale, bias, default);

    /// <summary>Packed signs of <c>dot - threshold[n]</c> (bit 0 = +1 when <c>dot &gt;= threshold[n]</c>), row m at word <c>m * ldWords</c>.</summary>
    public static XnorOutput Threshold(Span<ulong> bits, int ldWords, ReadOnlySpan<int> threshold)
        => new(XnorOutputKind.Threshold, default, default, bits, ldWords, default, default, threshold);
}

/// <summary>
/// An integer added to the dot product of row m and column n before the output transform:
/// <c>Table[RowClass[m] * N + n]</c>, nothing where <c>RowClass[m]</c> is negative. Binary convolutions with
/// zero padding use it to remove the padded taps' contribution at the image border.
/// </summary>
public readonly ref struct XnorRowCorrection
{
    /// <summary>Per row of A: the correction row to add, or -1 for none.</summary>
    public ReadOnlySpan<int> RowClass { get; }

    /// <summary>Correction rows of N ints each.</summary>
    public ReadOnlySpan<int> Table { get; }

    /// <summary>True when a correction is given.</summary>
    public bool IsPresent => !RowClass.IsEmpty;

    public XnorRowCorrection(ReadOnlySpan<int> rowClass, ReadOnlySpan<int> table)
    {
        RowClass = rowClass;
        Table = table;
    }
}
