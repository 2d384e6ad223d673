// A binary convolution bound to one shape, one set of weights and one padding mode, with the zero-padding
// correction classes built once so that a forward call allocates nothing.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Everything <see cref="BinaryConv2d.Forward"/> needs besides the input and the buffers. For
/// <see cref="BinaryPadding.Zero"/>, output positions whose window covers the same set of padded taps share a
/// correction class whose row holds <c>-Σ S[o][tap]</c> over those taps (S from
/// <see cref="BinaryConvWeights.TapSum"/>): the GEMM counted each padded tap as <c>+1 * w</c>, a float
/// convolution with zero padding counts it as 0. Interior positions have no class. Creating a plan allocates; <see cref="UpdateWeights"/> does not.
/// </summary>
public sealed class BinaryConv2dPlan
{
    private int[] rowClass = [];
    private int[] correctionTable = [];
    private (int Lo, int Hi)[] yRanges = [];
    private (int Lo, int Hi)[] xRanges = [];

    /// <summary>Binds <paramref name="weights"/> to <paramref name="shape"/>; both must agree on filters, kernel and channels.</summary>
    public BinaryConv2dPlan(Conv2dShape shape, BinaryConvWeights weights, BinaryPadding padding = BinaryPadding.One)
    {
        ArgumentNullException.ThrowIfNull(weights);
        shape.Validate();
        if (padding is not (BinaryPadding.One or BinaryPadding.Zero))
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "Unknown padding; use BinaryPadding.One or BinaryPadding.Zero.");
        if (weights.Filters != shape.Filters || weights.KernelH != shape.KernelH || weights.KernelW != shape.KernelW
            || weights.Channels != shape.Channels)
            throw new ArgumentException(
                $"The weights are {weights.Filters}x{weights.KernelH}x{weights.KernelW}x{weights.Channels} (OHWI) but the shape asks for "
                + $"{shape.Filters}x{shape.KernelH}x{shape.KernelW}x{shape.Channels}; pack the weights for this shape.",
                nameof(weights));
        if ((long)shape.OutputPositions * shape.KernelH * shape.KernelW * weights.ChannelWords > int.MaxValue)
            throw new ArgumentException(
                $"The bit im2col of this shape would need more than {int.MaxValue} words; use a smaller batch.", nameof(shape));

        Shape = shape;
        Weights = weights;
        Padding = padding;
        if (padding == BinaryPadding.Zero)
            BuildCorrection();
    }

    /// <summary>The convolution's geometry.</summary>
    public Conv2dShape Shape { get; }

    /// <summary>The packed weights.</summary>
    public BinaryConvWeights Weights { get; }

    /// <summary>The padding mode.</summary>
    public BinaryPadding Padding { get; }

    /// <summary>Words per row of the bit im2col matrix: <c>KernelH * KernelW * ceil(Channels / 64)</c>.</summary>
    public int RowWords => Shape.KernelH * Shape.KernelW * Weights.ChannelWords;

    /// <summary>The per-position correction for the GEMM (absent for <see cref="BinaryPadding.One"/> or when no window touches the padding).</summary>
    internal XnorRowCorrection Correction => rowClass.Length == 0 ? default : new XnorRowCorrection(rowClass, correctionTable);

    /// <summary>
    /// Re-packs new float weights (OHWI, see <see cref="BinaryConvWeights.Update"/>) into <see cref="Weights"/> and
    /// refreshes the zero-padding correction in place: afterwards the plan computes what a plan built from
    /// <c>BinaryConvWeights.FromFloats(weights, ...)</c> computes. Allocates nothing; for training, where the
    /// latent weights change every step.
    /// </summary>
    public void UpdateWeights(ReadOnlySpan<float> weights, KernelPath path = KernelPath.Auto)
    {
        Weights.Update(weights, path);
        if (correctionTable.Length != 0)
            FillCorrectionTable(Shape, Weights, yRanges, xRanges, correctionTable);
    }

    private void BuildCorrection()
    {
        var shape = Shape;
        var (yClass, yList) = ValidTapClasses(shape.OutputHeight, shape.Height, shape.KernelH, shape.StrideH, shape.PadH);
        var (xClass, xList) = ValidTapClasses(shape.OutputWidth, shape.Width, shape.KernelW, shape.StrideW, shape.PadW);
        bool anyPadded = yList.Exists(r => r != (0, shape.KernelH)) || xList.Exists(r => r != (0, shape.KernelW));
        if (!anyPadded)
            return;

        yRanges = [.. yList];
        xRanges = [.. xList];
        correctionTable = new int[yRanges.Length * xRanges.Length * shape.Filters];
        FillCorrectionTable(shape, Weights, yRanges, xRanges, correctionTable);

        int outH = shape.OutputHeight, outW = shape.OutputWidth, perImage = outH * outW;
        var classes = new int[shape.OutputPositions];
        for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
            {
                bool interior = yRanges[yClass[oy]] == (0, shape.KernelH) && xRanges[xClass[ox]] == (0, shape.KernelW);
                classes[oy * outW + ox] = interior ? -1 : yClass[oy] * xRanges.Length + xClass[ox];
            }
        for (int b = 1; b < shape.Batch; b++)
            Array.Copy(classes, 0, classes, b * perImage, perImage);
        rowClass = classes;
    }

    /// <summary>Row (y class, x class) of the table: <c>-Σ TapSum(o, tap)</c> over the taps outside the valid window [kyLo, kyHi) × [kxLo, kxHi).</summary>
    private static void FillCorrectionTable(Conv2dShape shape, BinaryConvWeights weights,
        (int Lo, int Hi)[] yRanges, (int Lo, int Hi)[] xRanges, int[] table)
    {
        int n = shape.Filters;
        for (int yc = 0; yc < yRanges.Length; yc++)
            for (int xc = 0; xc < xRanges.Length; xc++)
            {
                var (kyLo, kyHi) = yRanges[yc];
                var (kxLo, kxHi) = xRanges[xc];
                int row = (yc * xRanges.Length + xc) * n;
                for (int o = 0; o < n; o++)
                {
                    int padded = 0;
                    for (int ky = 0; ky < shape.KernelH; ky++)
                        for (int kx = 0; kx < shape.KernelW; kx++)
                            if (ky < kyLo || ky >= kyHi || kx < kxLo || kx >= kxHi)
                                padded += weights.TapSum(o, ky * shape.KernelW + kx);
                    table[row + o] = -padded;
                }
            }
    }

    /// <summary>
    /// Along one axis: for every output index, the class of its valid kernel range [lo, hi) (the taps that land
    /// inside the image), and the distinct ranges in order of first appearance.
    /// </summary>
    private static (int[] Classes, List<(int Lo, int Hi)> Ranges) ValidTapClasses(int outputs, int size, int kernel, int stride, int pad)
    {
        var classes = new int[outputs];
        var ranges = new List<(int Lo, int Hi)>();
        for (int o = 0; o < outputs; o++)
        {
            int start = o * stride - pad;
            var range = (Math.Min(kernel, Math.Max(0, -start)), Math.Clamp(size - start, 0, kernel));
            int index = ranges.IndexOf(range);
            if (index < 0)
            {
                index = ranges.Count;
                ranges.Add(range);
            }
            classes[o] = index;
        }
        return (classes, ranges);
    }
}
