// Float32 max, average and global average pooling on NHWC tensors, vectorized over channels.
namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Pooling of NHWC floats. A window's channels are contiguous, so each window cell is one vector run over the
/// channels (Vector256 on the Avx2 path, Vector512 on the Avx512 path, scalar tails). Padded cells take no part:
/// max pooling ignores them and average pooling divides by the number of real cells in the window (the
/// "exclude padding" convention, PyTorch's <c>count_include_pad=False</c>). Work is split over output rows.
/// </summary>
public static unsafe class FloatPooling
{
    /// <summary><c>output[b, oh, ow, c]</c> = the largest real input cell of the window at (oh, ow), channel c.</summary>
    public static void MaxPool(Pool2dShape shape, ReadOnlySpan<float> input, Span<float> output,
        KernelPath path = KernelPath.Auto, int threads = 0)
        => Pool(shape, input, output, average: false, path, threads);

    /// <summary>
    /// <c>output[b, oh, ow, c]</c> = the mean of the real input cells of the window at (oh, ow), channel c: padded
    /// cells are excluded from both the sum and the divisor.
    /// </summary>
    public static void AvgPool(Pool2dShape shape, ReadOnlySpan<float> input, Span<float> output,
        KernelPath path = KernelPath.Auto, int threads = 0)
        => Pool(shape, input, output, average: true, path, threads);

    /// <summary><c>output[b, c]</c> = the mean of <c>input[b, h, w, c]</c> over all height × width positions.</summary>
    public static void GlobalAvgPool(int batch, int height, int width, int channels, ReadOnlySpan<float> input,
        Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        var shape = new Pool2dShape(batch, height, width, channels, height, width, 1, 1, 0, 0);
        Pool(shape, input, output, average: true, path, threads);
    }

    private static void Pool(Pool2dShape shape, ReadOnlySpan<float> input, Span<float> output, bool average, KernelPath path, int threads)
    {
        shape.Validate();
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch × Height × Width × Channels");
        KernelChecks.Length(output, (long)shape.Batch * shape.OutputHeight * shape.OutputWidth * shape.Channels, nameof(output),
            "Batch × OutputHeight × OutputWidth × Channels");
        path = KernelDispatch.Resolve(path);
        fixed (float* inputPtr = input)
        fixed (float* outputPtr = output)
        {
            var job = new PoolJob { Shape = shape, Input = inputPtr, Output = outputPtr, Average = average, Path = path };
            KernelParallel.For(shape.Batch * shape.OutputHeight, threads, ref job);
        }
    }

    /// <summary>Item: one output row (image, oh).</summary>
    private struct PoolJob : IParallelJob
    {
        public Pool2dShape Shape;
        public float* Input, Output;
        public bool Average;
        public KernelPath Path;

        public readonly void Run(int index)
        {
            switch (Path)
            {
                case KernelPath.Avx512: Row<Avx512RowOps>(index); break;
                case KernelPath.Avx2: Row<Avx2RowOps>(index); break;
                default: Row<ScalarRowOps>(index); break;
            }
        }

        private readonly void Row<TOps>(int index) where TOps : struct, IFloatRowOps
        {
            Pool2dShape s = Shape;
            int c = s.Channels, oh = index % s.OutputHeight, image = index / s.OutputHeight;
            int ihStart = Math.Max(0, oh * s.StrideH - s.PadH), ihEnd = Math.Min(s.Height, oh * s.StrideH - s.PadH + s.KernelH);
            float* imageInput = Input + (long)image * s.Height * s.Width * c;
            float* dst = Output + (long)index * s.OutputWidth * c;
            for (int ow = 0; ow < s.OutputWidth; ow++, dst += c)
            {
                int iwStart = Math.Max(0, ow * s.StrideW - s.PadW), iwEnd = Math.Min(s.Width, ow * s.StrideW - s.PadW + s.KernelW);
                bool first = true;
                for (int ih = ihStart; ih < ihEnd; ih++)
                    for (int iw = iwStart; iw < iwEnd; iw++)
                    {
                        float* src = imageInput + ((long)ih * s.Width + iw) * c;
                        if (first)
                            System.Buffer.MemoryCopy(src, dst, (long)c * sizeof(float), (long)c * sizeof(float));
                        else if (Average)
                            TOps.Add(dst, src, c);
                        else
                            TOps.Max(dst, src, c);
                        first = false;
                    }
                if (Average)
                    TOps.Scale(dst, 1f / ((ihEnd - ihStart) * (iwEnd - iwStart)), c);
            }
        }
    }
}
