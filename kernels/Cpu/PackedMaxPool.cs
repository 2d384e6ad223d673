// Max pooling directly on packed sign bits (NHWC): the max of ±1 values is +1 when any is +1, which with
// bit 1 = -1 is the bitwise AND of the window's words.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Max pooling of packed ±1 activations <c>[Batch][Height][Width][ceil(Channels / 64)]</c> words into
/// <c>[Batch][OutputHeight][OutputWidth][ceil(Channels / 64)]</c> words. Each output word is the AND of the
/// same word of every real cell in its window (padded cells are ignored); tail bits stay zero. A call
/// allocates nothing.
/// </summary>
public static unsafe class PackedMaxPool
{
    /// <summary>Below this many output words the pooling runs on the calling thread alone.</summary>
    private const int ParallelOutputWords = 1 << 14;

    /// <summary>Words of packed output: <c>Batch * OutputHeight * OutputWidth * ceil(Channels / 64)</c>.</summary>
    public static int OutputLength(Pool2dShape shape)
    {
        shape.Validate();
        return shape.OutputPositions * SignPacking.WordsFor(shape.Channels);
    }

    /// <summary>Pools packed <paramref name="input"/> into packed <paramref name="output"/>.</summary>
    public static void Forward(ReadOnlySpan<ulong> input, Pool2dShape shape, Span<ulong> output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        shape.Validate();
        int words = SignPacking.WordsFor(shape.Channels);
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * words, nameof(input),
            "Batch * Height * Width * ceil(Channels / 64) words, packed NHWC");
        long outputWords = (long)shape.OutputPositions * words;
        KernelChecks.Length(output, outputWords, nameof(output), "PackedMaxPool.OutputLength(shape) words");
        path = KernelDispatch.Resolve(path);

        fixed (ulong* inputPtr = input)
        fixed (ulong* outputPtr = output)
        {
            var job = new Job
            {
                Input = inputPtr, Output = outputPtr, Shape = shape, Words = words, Path = path,
                OutputHeight = shape.OutputHeight, OutputWidth = shape.OutputWidth,
            };
            KernelParallel.For(shape.Batch * job.OutputHeight, outputWords < ParallelOutputWords ? 1 : threads, ref job);
        }
    }

    /// <summary>One output image row (one batch item, one oy) per work item.</summary>
    private struct Job : IParallelJob
    {
        public ulong* Input, Output;
        public Pool2dShape Shape;
        public int Words, OutputHeight, OutputWidth;
        public KernelPath Path;

        public void Run(int index)
        {
            int batch = index / OutputHeight, oy = index % OutputHeight;
            int rowWords = Shape.Width * Words;
            int top = oy * Shape.StrideH - Shape.PadH;
            int y0 = Math.Max(0, top), y1 = Math.Min(Shape.Height, top + Shape.KernelH);
            ulong* image = Input + (long)batch * Shape.Height * rowWords;
            ulong* destination = Output + (long)index * OutputWidth * Words;
            for (int ox = 0; ox < OutputWidth; ox++, destination += Words)
            {
                int left = ox * Shape.StrideW - Shape.PadW;
                int x0 = Math.Max(0, left), x1 = Math.Min(Shape.Width, left + Shape.KernelW);
                var window = new Window(image + (long)y0 * rowWords + x0 * Words, y1 - y0, x1 - x0, rowWords, Words);
                int w = 0;
                if (Path == KernelPath.Avx512)
                    w = AndWords<Avx512Lanes, Vector512<ulong>>(window, destination, w);
                else if (Path == KernelPath.Avx2)
                    w = AndWords<Avx2Lanes, Vector256<ulong>>(window, destination, w);
                for (; w < Words; w++)
                {
                    ulong* cell = window.First + w;
                    ulong result = *cell;
                    for (int y = 0; y < window.Rows; y++)
                        for (int x = 0; x < window.Columns; x++)
                            result &= cell[(long)y * window.RowWords + x * Words];
                    destination[w] = result;
                }
            }
        }

        /// <summary>ANDs whole vectors of words from <paramref name="w"/> on; returns the first word left over.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int AndWords<TOps, TVec>(Window window, ulong* destination, int w)
            where TOps : IBitLanes<TVec> where TVec : struct
        {
            int lanes = TOps.Lanes;
            for (; w + lanes <= window.Words; w += lanes)
            {
                ulong* cell = window.First + w;
                TVec result = TOps.Load(cell);
                for (int y = 0; y < window.Rows; y++)
                    for (int x = 0; x < window.Columns; x++)
                        result = TOps.And(result, TOps.Load(cell + (long)y * window.RowWords + x * window.Words));
                TOps.Store(result, destination + w);
            }
            return w;
        }
    }

    /// <summary>The real cells of one window: its first cell, its size, and the strides between cells.</summary>
    private readonly struct Window(ulong* first, int rows, int columns, int rowWords, int words)
    {
        public readonly ulong* First = first;
        public readonly int Rows = rows, Columns = columns, RowWords = rowWords, Words = words;
    }
}
