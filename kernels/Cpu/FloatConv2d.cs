// Float32 2-D convolution on NHWC tensors as im2col + SGEMM (direct SGEMM for 1x1 stride-1 unpadded convolutions),
// with im2col and its adjoint col2im for the input gradient.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Float convolution: <c>output[b, oh, ow, o] = bias[o] + Σ_{kh, kw, c} input[b, oh*StrideH - PadH + kh,
/// ow*StrideW - PadW + kw, c] * weights[o, kh, kw, c]</c>, cells outside the input reading as zero.
/// The im2col matrix has one row per output position (b, oh, ow) and K = KernelH * KernelW * Channels columns
/// ordered (kh, kw, c), the same order as a filter's weights, so the convolution is
/// <c>output (M × Filters) = columns (M × K) × weightsᵀ</c>.
/// </summary>
public static unsafe class FloatConv2d
{
    /// <summary>
    /// Floats of scratch that <see cref="Forward"/> needs to run the whole batch in one SGEMM: the im2col
    /// matrix, <c>OutputPositions * KernelH * KernelW * Channels</c> (0 on the direct 1x1 path). A smaller scratch
    /// of at least one image's rows also works: the batch then runs in chunks of as many images as fit.
    /// </summary>
    public static int ScratchLength(Conv2dShape shape)
    {
        shape.Validate();
        if (IsDirect(shape))
            return 0;
        long floats = (long)shape.OutputPositions * PatchLength(shape);
        if (floats > int.MaxValue)
            throw new ArgumentException($"The im2col of this shape would need {floats} floats, more than {int.MaxValue}; use a smaller batch.", nameof(shape));
        return (int)floats;
    }

    /// <summary>
    /// Computes the convolution into <paramref name="output"/> ([Batch][OutputHeight][OutputWidth][Filters]).
    /// <paramref name="bias"/> is empty (no bias) or holds one value per filter.
    /// </summary>
    public static void Forward(Conv2dShape shape, ReadOnlySpan<float> input, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, Span<float> output, Span<float> scratch, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        shape.Validate();
        int k = PatchLength(shape), filters = shape.Filters, positions = shape.OutputPositions;
        int imageRows = shape.OutputHeight * shape.OutputWidth;
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch × Height × Width × Channels");
        KernelChecks.Length(weights, (long)filters * k, nameof(weights), "Filters × KernelH × KernelW × Channels");
        if (!bias.IsEmpty)
            KernelChecks.Length(bias, filters, nameof(bias), "one value per filter, or empty for no bias");
        KernelChecks.Length(output, (long)positions * filters, nameof(output), "Batch × OutputHeight × OutputWidth × Filters");
        bool direct = IsDirect(shape);
        if (!direct && scratch.Length < (long)imageRows * k)
            throw new ArgumentException(
                $"scratch holds {scratch.Length} floats but needs at least {(long)imageRows * k} (one image's im2col rows); " +
                $"FloatConv2d.ScratchLength gives {ScratchLength(shape)} for the whole batch at once.", nameof(scratch));
        path = KernelDispatch.Resolve(path);

        float beta = 0f;
        if (!bias.IsEmpty)
        {
            for (int row = 0; row < positions; row++)
                bias[..filters].CopyTo(output.Slice(row * filters, filters));
            beta = 1f;
        }

        if (direct)
        {
            Sgemm.Multiply(false, true, positions, filters, k, 1f, input, k, weights, k, beta, output, filters, path, threads);
            return;
        }

        int imagesPerChunk = Math.Min(shape.Batch, scratch.Length / (imageRows * k));
        for (int first = 0; first < shape.Batch; first += imagesPerChunk)
        {
            int images = Math.Min(imagesPerChunk, shape.Batch - first);
            int rows = images * imageRows;
            Span<float> columns = scratch[..(rows * k)];
            Im2ColImages(shape, input, columns, first, images, threads);
            Sgemm.Multiply(false, true, rows, filters, k, 1f, columns, k, weights, k, beta,
                output.Slice(first * imageRows * filters, rows * filters), filters, path, threads);
        }
    }

    /// <summary>
    /// Writes the im2col matrix of <paramref name="input"/>: <c>OutputPositions</c> rows of
    /// <c>KernelH * KernelW * Channels</c> floats, row (b, oh, ow), column (kh, kw, c), zero where the window reads
    /// padding. Pure data movement (contiguous runs of channels are block copies), so it has no per-path variants.
    /// </summary>
    public static void Im2Col(Conv2dShape shape, ReadOnlySpan<float> input, Span<float> columns, int threads = 0)
    {
        shape.Validate();
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch × Height × Width × Channels");
        KernelChecks.Length(columns, (long)shape.OutputPositions * PatchLength(shape), nameof(columns), "OutputPositions × KernelH × KernelW × Channels");
        Im2ColImages(shape, input, columns, 0, shape.Batch, threads);
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col"/>: overwrites <paramref name="input"/> (NHWC) with the sum, over every
    /// im2col entry, of the column value at the input cell it was copied from (entries that read padding are
    /// dropped). Given dL/dcolumns this yields dL/dinput, the input gradient of a convolution.
    /// </summary>
    public static void Col2Im(Conv2dShape shape, ReadOnlySpan<float> columns, Span<float> input,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        shape.Validate();
        KernelChecks.Length(columns, (long)shape.OutputPositions * PatchLength(shape), nameof(columns), "OutputPositions × KernelH × KernelW × Channels");
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch × Height × Width × Channels");
        path = KernelDispatch.Resolve(path);
        fixed (float* columnsPtr = columns)
        fixed (float* inputPtr = input)
        {
            var job = new Col2ImJob { Shape = shape, Columns = columnsPtr, Input = inputPtr, Path = path };
            KernelParallel.For(shape.Batch, threads, ref job);
        }
    }

    private static bool IsDirect(Conv2dShape shape)
        => shape is { KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, PadH: 0, PadW: 0 };

    private static int PatchLength(Conv2dShape shape) => shape.KernelH * shape.KernelW * shape.Channels;

    private static void Im2ColImages(Conv2dShape shape, ReadOnlySpan<float> input, Span<float> columns, int firstImage, int images, int threads)
    {
        fixed (float* inputPtr = input)
        fixed (float* columnsPtr = columns)
        {
            var job = new Im2ColJob { Shape = shape, Input = inputPtr, Columns = columnsPtr, FirstImage = firstImage };
            KernelParallel.For(images * shape.OutputHeight, threads, ref job);
        }
    }

    /// <summary>
    /// For output position (oh, ow) and kernel row kh: the kernel columns [kwStart, kwEnd) that fall inside the
    /// input, and the input row ih (-1 when the whole kernel row reads padding).
    /// </summary>
    private static void Window(Conv2dShape shape, int oh, int ow, int kh, out int ih, out int iwStart, out int kwStart, out int kwEnd)
    {
        ih = oh * shape.StrideH - shape.PadH + kh;
        iwStart = ow * shape.StrideW - shape.PadW;
        kwStart = Math.Max(0, -iwStart);
        kwEnd = Math.Min(shape.KernelW, shape.Width - iwStart);
        if (ih < 0 || ih >= shape.Height || kwStart >= kwEnd)
            ih = -1;
    }

    /// <summary>Item: one output row (image, oh) of im2col rows.</summary>
    private struct Im2ColJob : IParallelJob
    {
        public Conv2dShape Shape;
        public float* Input, Columns;
        public int FirstImage;

        public readonly void Run(int index)
        {
            Conv2dShape s = Shape;
            int oh = index % s.OutputHeight, image = index / s.OutputHeight;
            int c = s.Channels, rowLength = s.KernelH * s.KernelW * c;
            float* imageInput = Input + (long)(FirstImage + image) * s.Height * s.Width * c;
            float* dst = Columns + (long)index * s.OutputWidth * rowLength;
            for (int ow = 0; ow < s.OutputWidth; ow++)
                for (int kh = 0; kh < s.KernelH; kh++, dst += s.KernelW * c)
                {
                    Window(s, oh, ow, kh, out int ih, out int iwStart, out int kwStart, out int kwEnd);
                    if (ih < 0)
                    {
                        new Span<float>(dst, s.KernelW * c).Clear();
                        continue;
                    }
                    new Span<float>(dst, kwStart * c).Clear();
                    float* src = imageInput + ((long)ih * s.Width + iwStart + kwStart) * c;
                    new ReadOnlySpan<float>(src, (kwEnd - kwStart) * c).CopyTo(new Span<float>(dst + kwStart * c, (kwEnd - kwStart) * c));
                    new Span<float>(dst + kwEnd * c, (s.KernelW - kwEnd) * c).Clear();
                }
        }
    }

    /// <summary>Item: one image (images do not overlap in the input, so items never write the same cell).</summary>
    private struct Col2ImJob : IParallelJob
    {
        public Conv2dShape Shape;
        public float* Columns, Input;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            switch (Path)
            {
                case KernelPath.Avx512: Accumulate<Avx512RowOps>(index); break;
                case KernelPath.Avx2: Accumulate<Avx2RowOps>(index); break;
                default: Accumulate<ScalarRowOps>(index); break;
            }
        }

        private readonly void Accumulate<TOps>(int image) where TOps : struct, IFloatRowOps
        {
            Conv2dShape s = Shape;
            int c = s.Channels, rowLength = s.KernelH * s.KernelW * c;
            long imageLength = (long)s.Height * s.Width * c;
            float* imageInput = Input + image * imageLength;
            new Span<float>(imageInput, (int)imageLength).Clear();
            float* src = Columns + (long)image * s.OutputHeight * s.OutputWidth * rowLength;
            for (int oh = 0; oh < s.OutputHeight; oh++)
                for (int ow = 0; ow < s.OutputWidth; ow++)
                    for (int kh = 0; kh < s.KernelH; kh++, src += s.KernelW * c)
                    {
                        Window(s, oh, ow, kh, out int ih, out int iwStart, out int kwStart, out int kwEnd);
                        if (ih >= 0)
                            TOps.Add(imageInput + ((long)ih * s.Width + iwStart + kwStart) * c, src + kwStart * c, (kwEnd - kwStart) * c);
                    }
        }
    }
}
