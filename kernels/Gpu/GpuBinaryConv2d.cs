// Binary 2-D convolution on the accelerator with an implicit bit im2col: the XNOR GEMM's tiles read packed NHWC
// pixels directly, with int32 dot products or packed threshold bits (the layer-to-layer path) as output.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>out[b, oy, ox, o] = Σ_{ky, kx, c} x[b, oy·StrideH − PadH + ky, ox·StrideW − PadW + kx, c] · w[o, ky, kx, c]</c>
/// over ±1 values, the numbers of <see cref="BinaryConv2d"/> and <see cref="Reference.BinaryConv2dReference"/>. The
/// input is packed NHWC <c>[Batch][Height][Width][ceil(Channels / 64)]</c> words and the weights packed OHWI
/// <c>[Filters][KernelH][KernelW][ceil(Channels / 64)]</c> words, tail bits zero in both (as
/// <see cref="SignPacking"/> and <see cref="GpuSignPacking"/> write them). The GEMM is M = output positions,
/// N = Filters, K = KernelH·KernelW·Channels bits, but no im2col matrix exists: each tile stages the words of its
/// output positions' taps straight from the input, zero words (+1) for taps outside the image. With
/// <see cref="BinaryPadding.Zero"/> every output position near the border then subtracts its padded taps' weight sums
/// <c>Channels − 2·popcount(w[o, tap])</c>, so padded cells add 0. Outputs are NHWC: int32
/// <c>[positions][Filters]</c> or packed bits <c>[positions][ceil(Filters / 64)]</c>. The tile shape is a struct type
/// parameter as in <see cref="GpuXnorGemm"/>; launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuBinaryConv2d
{
    /// <summary>Words of packed input the convolution reads: <c>Batch · Height · Width · ceil(Channels / 64)</c>.</summary>
    public static int InputLength(Conv2dShape shape)
    {
        shape.Validate();
        return shape.Batch * shape.Height * shape.Width * SignPacking.WordsFor(shape.Channels);
    }

    /// <summary>Words of packed weights: <c>Filters · KernelH · KernelW · ceil(Channels / 64)</c>.</summary>
    public static int WeightsLength(Conv2dShape shape)
    {
        shape.Validate();
        return shape.Filters * shape.KernelH * shape.KernelW * SignPacking.WordsFor(shape.Channels);
    }

    /// <summary>Writes the int32 dot products into <paramref name="output"/> (<c>[positions][Filters]</c>, NHWC).</summary>
    public static void Forward<TTile>(GpuDevice device, ArrayView<ulong> input, ArrayView<ulong> weights, Conv2dShape shape,
        BinaryPadding padding, ArrayView<int> output) where TTile : struct, IGemmTile
    {
        var geometry = Check(device, input, weights, shape, padding);
        GpuChecks.Length(output, (long)shape.OutputPositions * shape.Filters, nameof(output), "OutputPositions * Filters");
        Launch<TTile, Int32Dots>(device, "binary-conv-int32", new Int32Dots(output, shape.Filters), input, weights, geometry);
    }

    /// <summary>
    /// Writes packed output bits into <paramref name="bits"/> (<c>[positions][ceil(Filters / 64)]</c>, the next binary
    /// layer's input): bit o of a position is 1 (−1) when its dot &lt; threshold[o]. Clears the rows first.
    /// </summary>
    public static void ForwardThreshold<TTile>(GpuDevice device, ArrayView<ulong> input, ArrayView<ulong> weights, Conv2dShape shape,
        BinaryPadding padding, ArrayView<int> threshold, ArrayView<ulong> bits) where TTile : struct, IGemmTile
    {
        var geometry = Check(device, input, weights, shape, padding);
        int words = SignPacking.WordsFor(shape.Filters);
        GpuChecks.Length(threshold, shape.Filters, nameof(threshold), "one threshold per filter");
        GpuChecks.Length(bits, (long)shape.OutputPositions * words, nameof(bits), "OutputPositions * ceil(Filters / 64) words");
        GpuChecks.FitsInt((long)shape.OutputPositions * words * 64, "OutputPositions * ceil(Filters / 64) * 64");
        bits.SubView(0, (long)shape.OutputPositions * words).MemSetToZero(device.Accelerator.DefaultStream);
        Launch<TTile, ThresholdBits>(device, "binary-conv-threshold", new ThresholdBits(threshold, bits, words), input, weights, geometry);
    }

    /// <summary>
    /// Writes <c>scale[o] · dot + bias[o]</c> floats into <paramref name="output"/> (<c>[positions][Filters]</c>, NHWC),
    /// the CPU kernel's scale-bias output (a folded BatchNorm; ones and zeros give the dot products as floats).
    /// </summary>
    public static void ForwardScaleBias<TTile>(GpuDevice device, ArrayView<ulong> input, ArrayView<ulong> weights, Conv2dShape shape,
        BinaryPadding padding, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> output) where TTile : struct, IGemmTile
    {
        var geometry = Check(device, input, weights, shape, padding);
        GpuChecks.Length(scale, shape.Filters, nameof(scale), "one scale per filter");
        GpuChecks.Length(bias, shape.Filters, nameof(bias), "one bias per filter");
        GpuChecks.Length(output, (long)shape.OutputPositions * shape.Filters, nameof(output), "OutputPositions * Filters");
        Launch<TTile, ScaleBiasFloats>(device, "binary-conv-scale-bias", new ScaleBiasFloats(scale, bias, output, shape.Filters), input, weights, geometry);
    }

    private static ConvGeometry Check(GpuDevice device, ArrayView<ulong> input, ArrayView<ulong> weights, Conv2dShape shape, BinaryPadding padding)
    {
        GpuChecks.Device(device, nameof(device));
        shape.Validate();
        if (padding is not (BinaryPadding.One or BinaryPadding.Zero))
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be BinaryPadding.One or BinaryPadding.Zero.");
        int channelWords = SignPacking.WordsFor(shape.Channels);
        GpuChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * channelWords, nameof(input),
            "Batch * Height * Width * ceil(Channels / 64) words, packed NHWC");
        GpuChecks.Length(weights, (long)shape.Filters * shape.KernelH * shape.KernelW * channelWords, nameof(weights),
            "Filters * KernelH * KernelW * ceil(Channels / 64) words, packed OHWI");
        return new ConvGeometry(shape.Height, shape.Width, shape.Channels, channelWords, shape.KernelH, shape.KernelW,
            shape.StrideH, shape.StrideW, shape.PadH, shape.PadW, shape.OutputHeight, shape.OutputWidth, shape.OutputPositions,
            shape.Filters, padding == BinaryPadding.Zero ? 1 : 0);
    }

    private static void Launch<TTile, TOutput>(GpuDevice device, string name, TOutput output, ArrayView<ulong> input,
        ArrayView<ulong> weights, ConvGeometry geometry)
        where TTile : struct, IGemmTile
        where TOutput : struct, IXnorGemmOutput
    {
        TileRows<CountRow, ulong>.Check<TTile>();
        var tile = default(TTile);
        if (tile.ThreadRows * tile.ThreadCols % tile.Depth != 0)
            throw new NotSupportedException(
                $"{typeof(TTile).Name} has {tile.ThreadRows * tile.ThreadCols} threads, not a multiple of its Depth {tile.Depth}; the convolution's staging gives each thread one word of every step. Use Tile32x32, Tile64x64 or Tile128x64.");
        var kernel = device.Kernel(name, typeof(TTile), accelerator =>
            accelerator.LoadStreamKernel<TOutput, ArrayView<ulong>, ArrayView<ulong>, ConvGeometry>(TiledKernel<TTile, TOutput>));
        kernel(GemmTileShape.Config<TTile>(geometry.Positions, geometry.Filters), output, input, weights, geometry);
    }

    /// <summary>
    /// One group per block of output positions × filters, as the XNOR GEMM kernel. First the group notes, per output
    /// position of its block, the image offset and the top-left input cell of the window; then per step of Depth words
    /// of K (tap-major, channel words within a tap) it stages each position's tap words (zero outside the image or past
    /// K) and the filters' weight words in shared memory and accumulates popcount(a XOR w) in registers. With zero
    /// padding the epilogue subtracts the weight sums of the padded taps.
    /// </summary>
    private static void TiledKernel<TTile, TOutput>(TOutput output, ArrayView<ulong> input, ArrayView<ulong> weights, ConvGeometry g)
        where TTile : struct, IGemmTile
        where TOutput : struct, IXnorGemmOutput
    {
        var tile = default(TTile);
        int threadRows = tile.ThreadRows, threadCols = tile.ThreadCols;
        int rowsPerThread = tile.RowsPerThread, colsPerThread = tile.ColsPerThread, depth = tile.Depth;
        int tileRows = threadRows * rowsPerThread, tileCols = threadCols * colsPerThread, stride = depth + 1;
        int channelWords = g.ChannelWords, taps = g.KernelH * g.KernelW, rowWords = taps * channelWords;

        var sharedA = SharedMemory.Allocate<ulong>(tileRows * stride);
        var sharedB = SharedMemory.Allocate<ulong>(tileCols * stride);
        var rowImage = SharedMemory.Allocate<int>(tileRows);
        var rowTop = SharedMemory.Allocate<int>(tileRows);
        var rowLeft = SharedMemory.Allocate<int>(tileRows);
        var counts = default(TileRows<CountRow, ulong>);

        int x = Group.IdxX, y = Group.IdxY, thread = y * threadCols + x, threads = threadRows * threadCols;
        int rowBase = Grid.IdxY * tileRows, colBase = Grid.IdxX * tileCols;
        for (int r = thread; r < tileRows; r += threads)
        {
            int position = rowBase + r;
            int image = -1, top = 0, left = 0;
            if (position < g.Positions)
            {
                int perImage = g.OutputHeight * g.OutputWidth;
                int batch = position / perImage, rest = position - batch * perImage;
                int oy = rest / g.OutputWidth, ox = rest - oy * g.OutputWidth;
                image = batch * g.Height * g.Width * channelWords;
                top = oy * g.StrideH - g.PadH;
                left = ox * g.StrideW - g.PadW;
            }
            rowImage[r] = image;
            rowTop[r] = top;
            rowLeft[r] = left;
        }
        Group.Barrier();

        // A thread stages the same word w of every step (threads is a multiple of Depth), for rows thread / Depth,
        // + threads / Depth, ...: its tap and channel word advance by fixed amounts per step, so the staging loop
        // needs one division per step (tap -> ky, kx) instead of two per staged word.
        int stageWord = thread % depth, tapStep = depth / channelWords, wordStep = depth - tapStep * channelWords;
        int tap = stageWord / channelWords, channelWord = stageWord - tap * channelWords;
        for (int k0 = 0; k0 < rowWords; k0 += depth)
        {
            int ky = tap / g.KernelW, kx = tap - ky * g.KernelW;
            bool inK = k0 + stageWord < rowWords;
            for (int r = thread / depth; r < tileRows; r += threads / depth)
            {
                int image = rowImage[r];
                ulong value = 0UL;
                if (image >= 0 && inK)
                {
                    int iy = rowTop[r] + ky, ix = rowLeft[r] + kx;
                    if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width)
                        value = input[image + (iy * g.Width + ix) * channelWords + channelWord];
                }
                sharedA[r * stride + stageWord] = value;
            }
            tap += tapStep;
            channelWord += wordStep;
            if (channelWord >= channelWords)
            {
                channelWord -= channelWords;
                tap++;
            }
            for (int e = thread; e < tileCols * depth; e += threads)
            {
                int r = e / depth, w = e - r * depth, filter = colBase + r, word = k0 + w;
                sharedB[r * stride + w] = filter < g.Filters && word < rowWords ? weights[filter * rowWords + word] : 0UL;
            }
            Group.Barrier();

            counts = TileRows<CountRow, ulong>.Step<TTile>(counts, sharedA, sharedB, x, y, Math.Min(depth, rowWords - k0));
            Group.Barrier();
        }

        int kBits = taps * g.Channels;
        for (int i = 0; i < rowsPerThread; i++)
        {
            int r = y + i * threadRows, position = rowBase + r;
            if (position >= g.Positions)
                continue;
            int top = rowTop[r], left = rowLeft[r];
            bool border = top < 0 || left < 0 || top + g.KernelH > g.Height || left + g.KernelW > g.Width;
            for (int j = 0; j < colsPerThread; j++)
            {
                int filter = colBase + x + j * threadCols;
                if (filter >= g.Filters)
                    continue;
                int dot = kBits - 2 * counts.Row(i).Column(j);
                if (g.ZeroPadding != 0 && border)
                    dot -= PaddedTapSum(weights, g, filter, top, left);
                output.Store(position, filter, dot);
            }
        }
    }

    /// <summary>Σ over the taps of the window at (top, left) that fall outside the image of <c>Channels − 2·popcount(w[filter, tap])</c>.</summary>
    private static int PaddedTapSum(ArrayView<ulong> weights, ConvGeometry g, int filter, int top, int left)
    {
        int sum = 0, channelWords = g.ChannelWords;
        for (int ky = 0; ky < g.KernelH; ky++)
        {
            int iy = top + ky;
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int ix = left + kx;
                if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width)
                    continue;
                int offset = (filter * g.KernelH * g.KernelW + ky * g.KernelW + kx) * channelWords, ones = 0;
                for (int w = 0; w < channelWords; w++)
                    ones += IntrinsicMath.PopCount(weights[offset + w]);
                sum += g.Channels - 2 * ones;
            }
        }
        return sum;
    }

    /// <summary>The scalar arguments of one launch: input, kernel and output geometry, and the padding mode (1 = zero).</summary>
    internal readonly record struct ConvGeometry(int Height, int Width, int Channels, int ChannelWords, int KernelH, int KernelW,
        int StrideH, int StrideW, int PadH, int PadW, int OutputHeight, int OutputWidth, int Positions, int Filters, int ZeroPadding);
}
