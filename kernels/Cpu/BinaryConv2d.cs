// Binary 2-D convolution on packed NHWC bits: a bit im2col into caller scratch, then the XNOR GEMM with its
// int32, scale + bias or packed threshold output (the last chains binary layers without floats in between).
using System.Runtime.CompilerServices;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// <c>out[b, oy, ox, o] = Σ_{ky, kx, c} x[b, oy * StrideH - PadH + ky, ox * StrideW - PadW + kx, c] * w[o, ky, kx, c]</c>
/// over ±1 values, with padded cells +1 or 0 (<see cref="BinaryPadding"/>). The input is packed NHWC
/// <c>[Batch][Height][Width][ceil(Channels / 64)]</c> words (tail bits zero, as <see cref="SignPacking"/> writes
/// them). Each output position becomes one row of <see cref="BinaryConv2dPlan.RowWords"/> words in the scratch
/// (the words of each tap's input pixel, zero words for taps outside the image), and
/// <see cref="XnorGemm.Multiply"/> multiplies those rows by the packed weights. Output rows are output positions
/// in NHWC order: ints or floats <c>[Batch][OutputHeight][OutputWidth][Filters]</c> (ldc = Filters), or packed
/// bits <c>[Batch][OutputHeight][OutputWidth][ceil(Filters / 64)]</c> (ldWords = ceil(Filters / 64)).
/// A call allocates nothing.
/// </summary>
public static unsafe class BinaryConv2d
{
    /// <summary>Below this many scratch words the im2col runs on the calling thread alone.</summary>
    private const int ParallelIm2ColWords = 1 << 15;

    /// <summary>Longest run copied word by word; longer runs go through <c>Buffer.MemoryCopy</c>.</summary>
    private const int InlineCopyWords = 16;

    /// <summary>Scratch words <see cref="Forward"/> needs: <c>OutputPositions * KernelH * KernelW * ceil(Channels / 64)</c>.</summary>
    public static int ScratchLength(Conv2dShape shape)
    {
        shape.Validate();
        long words = (long)shape.OutputPositions * shape.KernelH * shape.KernelW * SignPacking.WordsFor(shape.Channels);
        if (words > int.MaxValue)
            throw new ArgumentException($"The bit im2col of this shape would need {words} words, more than {int.MaxValue}; use a smaller batch.", nameof(shape));
        return (int)words;
    }

    /// <summary>Words of packed input <see cref="Forward"/> reads: <c>Batch * Height * Width * ceil(Channels / 64)</c>.</summary>
    public static int InputLength(Conv2dShape shape)
    {
        shape.Validate();
        return shape.Batch * shape.Height * shape.Width * SignPacking.WordsFor(shape.Channels);
    }

    /// <summary>
    /// Runs the convolution of <paramref name="plan"/> on packed <paramref name="input"/>, using
    /// <paramref name="scratch"/> (at least <see cref="ScratchLength"/> words) for the bit im2col, and writes
    /// <paramref name="output"/> (see the class summary for its layout).
    /// </summary>
    public static void Forward(ReadOnlySpan<ulong> input, BinaryConv2dPlan plan, Span<ulong> scratch, XnorOutput output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var shape = plan.Shape;
        int channelWords = plan.Weights.ChannelWords, rowWords = plan.RowWords, m = shape.OutputPositions;
        KernelChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * channelWords, nameof(input),
            "Batch * Height * Width * ceil(Channels / 64) words, packed NHWC");
        KernelChecks.Length(scratch, (long)m * rowWords, nameof(scratch), "BinaryConv2d.ScratchLength(shape) words");
        path = KernelDispatch.Resolve(path);

        Im2Col(input, shape, scratch, threads);
        XnorGemm.Multiply(scratch, m, rowWords, plan.Weights.Packed, output, plan.Correction, path, threads);
    }

    /// <summary>
    /// The bit im2col alone: row p of <paramref name="rows"/> (<c>KernelH * KernelW * ceil(Channels / 64)</c>
    /// words) holds the input words of each tap of output position p, zero words for taps outside the image.
    /// Lengths are checked by the caller.
    /// </summary>
    internal static void Im2Col(ReadOnlySpan<ulong> input, Conv2dShape shape, Span<ulong> rows, int threads)
    {
        int channelWords = SignPacking.WordsFor(shape.Channels), rowWords = shape.KernelH * shape.KernelW * channelWords;
        fixed (ulong* inputPtr = input)
        fixed (ulong* rowsPtr = rows)
        {
            var job = new Im2ColJob
            {
                Input = inputPtr, Rows = rowsPtr, Height = shape.Height, Width = shape.Width, ChannelWords = channelWords,
                KernelH = shape.KernelH, KernelW = shape.KernelW, StrideH = shape.StrideH, StrideW = shape.StrideW,
                PadH = shape.PadH, PadW = shape.PadW, OutputHeight = shape.OutputHeight, OutputWidth = shape.OutputWidth,
                RowWords = rowWords,
            };
            long words = (long)shape.OutputPositions * rowWords;
            KernelParallel.For(shape.Batch * shape.OutputHeight, words < ParallelIm2ColWords ? 1 : threads, ref job);
        }
    }

    /// <summary>Fills the im2col rows of one output image row (one batch item, one oy) per work item.</summary>
    private struct Im2ColJob : IParallelJob
    {
        public ulong* Input, Rows;
        public int Height, Width, ChannelWords, KernelH, KernelW, StrideH, StrideW, PadH, PadW, OutputHeight, OutputWidth, RowWords;

        public void Run(int index)
        {
            int batch = index / OutputHeight, oy = index % OutputHeight;
            int tapRowWords = KernelW * ChannelWords, pixelRowWords = Width * ChannelWords;
            ulong* image = Input + (long)batch * Height * pixelRowWords;
            ulong* row = Rows + (long)index * OutputWidth * RowWords;
            int top = oy * StrideH - PadH;
            for (int ox = 0; ox < OutputWidth; ox++, row += RowWords)
            {
                int left = ox * StrideW - PadW;
                int kxLo = Math.Min(KernelW, Math.Max(0, -left)), kxHi = Math.Clamp(Width - left, kxLo, KernelW);
                int loWords = kxLo * ChannelWords, copyWords = (kxHi - kxLo) * ChannelWords;
                ulong* tapRow = row;
                for (int ky = 0; ky < KernelH; ky++, tapRow += tapRowWords)
                {
                    int iy = top + ky;
                    if ((uint)iy >= (uint)Height)
                    {
                        Zero(tapRow, tapRowWords);
                        continue;
                    }
                    Zero(tapRow, loWords);
                    Copy(tapRow + loWords, image + (long)iy * pixelRowWords + (left + kxLo) * ChannelWords, copyWords);
                    Zero(tapRow + loWords + copyWords, tapRowWords - loWords - copyWords);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Copy(ulong* destination, ulong* source, int words)
        {
            if (words <= InlineCopyWords)
            {
                for (int i = 0; i < words; i++)
                    destination[i] = source[i];
            }
            else
            {
                Buffer.MemoryCopy(source, destination, words * 8L, words * 8L);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Zero(ulong* destination, int words)
        {
            for (int i = 0; i < words; i++)
                destination[i] = 0;
        }
    }
}
