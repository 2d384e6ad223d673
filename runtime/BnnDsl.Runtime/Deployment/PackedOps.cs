// The operations of a packed model's plan, one public method per PlanOp, with every shape passed explicitly: the
// interpreter calls them step by step, and generated inference code calls them with literal shapes.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Executes one plan step (<see cref="BnnDsl.Deployment.PlanOp"/>) on <c>count</c> samples. Inputs and outputs are
/// whole-batch NHWC spans: floats, or packed signs (bit 0 = +1, per position, ceil(C / 64) words, tail bits zero).
/// Weights come prepared once (<see cref="FloatConvWeights"/>, <see cref="BinaryConv2dPlan"/>, <see cref="XnorPackedB"/>);
/// any scratch comes from the caller, so no call allocates. <c>path</c> picks the kernels and <c>threads</c> the
/// cores they use (0: all, 1: run on the calling thread, as each lane of the interpreter does).
/// </summary>
public static unsafe class PackedOps
{
    /// <summary><see cref="BnnDsl.Deployment.PlanOp.Sign"/>: sign-packs <paramref name="rows"/> rows of <paramref name="channels"/> floats.</summary>
    public static void Sign(ReadOnlySpan<float> input, int rows, int channels, Span<ulong> output, KernelPath path = KernelPath.Auto) =>
        SignPacking.Pack(input, rows, channels, output, path);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.Unpack"/>: <paramref name="rows"/> packed rows of <paramref name="channels"/> signs to ±1 floats, eight channels per vector step.</summary>
    public static void Unpack(ReadOnlySpan<ulong> input, int rows, int channels, Span<float> output)
    {
        int words = SignPacking.WordsFor(channels);
        Check(input.Length, (long)rows * words, nameof(input));
        Check(output.Length, (long)rows * channels, nameof(output));
        var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        var plus = Vector256.Create(1f);
        var minus = Vector256.Create(-1f);
        fixed (ulong* src = input)
        fixed (float* dst = output)
            for (int r = 0; r < rows; r++)
            {
                byte* bytes = (byte*)(src + (long)r * words);
                float* row = dst + (long)r * channels;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                {
                    var set = Vector256.Equals(Vector256.Create((int)bytes[c >> 3]) & lanes, lanes).AsSingle();
                    Vector256.ConditionalSelect(set, minus, plus).Store(row + c);
                }
                for (; c < channels; c++)
                    row[c] = ((bytes[c >> 3] >> (c & 7)) & 1) == 0 ? 1f : -1f;
            }
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.Repack"/>: bits packed per position ([positions][words(C)]) to one flat
    /// packed vector of positions × C signs per sample.
    /// </summary>
    public static void Repack(ReadOnlySpan<ulong> input, int count, int positions, int channels, Span<ulong> output)
    {
        int words = SignPacking.WordsFor(channels), flatWords = SignPacking.WordsFor(positions * channels);
        Check(input.Length, (long)count * positions * words, nameof(input));
        Check(output.Length, (long)count * flatWords, nameof(output));
        for (int s = 0; s < count; s++)
        {
            var flat = output.Slice(s * flatWords, flatWords);
            flat.Clear();
            for (int p = 0; p < positions; p++)
                for (int c = 0; c < channels; c++)
                {
                    ulong bit = (input[(s * positions + p) * words + (c >> 6)] >> (c & 63)) & 1;
                    int index = p * channels + c;
                    flat[index >> 6] |= bit << (index & 63);
                }
        }
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.FloatConv"/>: per image, the convolution (+ bias), BatchNorm, an optional
    /// max pool (<paramref name="poolKernel"/> 0: none) and, when <paramref name="outputBits"/> is not empty,
    /// sign-packing instead of float output (see <see cref="FloatConvBlock"/>). Bit-identical to the training layers.
    /// </summary>
    public static void FloatConv(ReadOnlySpan<float> input, int count, FloatConvWeights conv, int poolKernel, int poolStride,
        Span<float> outputFloats, Span<ulong> outputBits, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(conv);
        var image = conv.Image;
        path = KernelDispatch.Resolve(path);
        int outputHeight = poolKernel == 0 ? image.OutputHeight : (image.OutputHeight - poolKernel) / poolStride + 1;
        int outputWidth = poolKernel == 0 ? image.OutputWidth : (image.OutputWidth - poolKernel) / poolStride + 1;
        long outputs = (long)count * outputHeight * outputWidth;
        Check(input.Length, (long)count * image.Height * image.Width * image.Channels, nameof(input));
        bool bits = !outputBits.IsEmpty;
        if (bits)
            Check(outputBits.Length, outputs * SignPacking.WordsFor(image.Filters), nameof(outputBits));
        else
            Check(outputFloats.Length, outputs * image.Filters, nameof(outputFloats));
        bool direct = FloatConvBlock.SupportsDirect(image, path);
        fixed (float* inputPtr = input)
        fixed (float* weight = conv.Weight)
        fixed (float* weightT = direct ? conv.WeightT : null)
        fixed (int* offsets = direct ? conv.Offsets : null)
        fixed (float* bias = conv.Bias)
        fixed (float* scale = conv.Scale)
        fixed (float* shift = conv.Shift)
        fixed (float* floatsPtr = outputFloats)
        fixed (ulong* bitsPtr = outputBits)
        {
            var job = new FloatConvBlock
            {
                Image = image, Input = inputPtr, Weight = weight, WeightT = weightT, Offsets = offsets, Bias = bias,
                Scale = scale, Shift = shift, OutputFloats = bits ? null : floatsPtr, OutputBits = bits ? bitsPtr : null,
                PoolKernel = poolKernel, PoolStride = poolStride, OutputHeight = outputHeight, OutputWidth = outputWidth, Path = path,
            };
            int cores = threads <= 0 ? KernelParallel.MaxThreads : Math.Min(threads, KernelParallel.MaxThreads);
            job.Parts = direct && count < cores ? Math.Min(outputHeight, (cores + count - 1) / count) : 1;
            KernelParallel.For(count * job.Parts, threads, ref job);
        }
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.FloatDense"/>: <c>y = x · Wᵀ (+ bias)</c> for <paramref name="count"/>
    /// samples, W [units, inputs] row-major; <paramref name="bias"/> empty for none. As the training DenseLayer computes it.
    /// </summary>
    public static void FloatDense(ReadOnlySpan<float> input, int count, int inputs, int units, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        Check(output.Length, (long)count * units, nameof(output));
        float beta = 0f;
        if (!bias.IsEmpty)
        {
            Check(bias.Length, units, nameof(bias));
            for (int s = 0; s < count; s++)
                bias.CopyTo(output.Slice(s * units, units));
            beta = 1f;
        }
        Sgemm.Multiply(false, true, count, units, inputs, 1f, input, inputs, weight, inputs, beta, output, units, path, threads);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.BitsDense"/>: a float dense layer on packed ±1 inputs (flat vectors of
    /// <paramref name="inputs"/> signs), unpacked into <paramref name="scratch"/> (count × inputs floats) first.
    /// </summary>
    public static void BitsDense(ReadOnlySpan<ulong> input, int count, int inputs, int units, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> scratch, Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        Check(scratch.Length, (long)count * inputs, nameof(scratch));
        var values = scratch[..(count * inputs)];
        Unpack(input, count, inputs, values);
        FloatDense(values, count, inputs, units, weight, bias, output, path, threads);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.Affine"/>: <c>y = x * scale[c] + shift[c]</c> over rows of
    /// scale.Length channels (multiply, round, add, round, as BatchNorm's evaluation mode); may run in place.
    /// </summary>
    public static void Affine(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output)
    {
        int channels = scale.Length;
        Check(shift.Length, channels, nameof(shift));
        Check(output.Length, input.Length, nameof(output));
        if (channels == 0 || input.Length % channels != 0)
            throw new ArgumentException($"scale holds {channels} floats, which does not divide the input's {input.Length}; pass one per channel.", nameof(scale));
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* a = scale)
        fixed (float* b = shift)
            for (long offset = 0; offset < input.Length; offset += channels)
            {
                float* xr = x + offset, yr = y + offset;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                    (Vector256.Load(xr + c) * Vector256.Load(a + c) + Vector256.Load(b + c)).Store(yr + c);
                for (; c < channels; c++)
                    yr[c] = xr[c] * a[c] + b[c];
            }
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.MaxPool"/>: float max pooling.</summary>
    public static void MaxPool(Pool2dShape shape, ReadOnlySpan<float> input, Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0) =>
        FloatPooling.MaxPool(shape, input, output, path, threads);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.AvgPool"/>: float average pooling.</summary>
    public static void AvgPool(Pool2dShape shape, ReadOnlySpan<float> input, Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0) =>
        FloatPooling.AvgPool(shape, input, output, path, threads);

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.GlobalAvgPool"/>: the mean of each channel over height × width, summed in
    /// double position by position and rounded once, as the training GlobalAvgPoolLayer computes it (bit for bit).
    /// </summary>
    public static void GlobalAvgPool(int count, int height, int width, int channels, ReadOnlySpan<float> input, Span<float> output)
    {
        int positions = height * width;
        Check(input.Length, (long)count * positions * channels, nameof(input));
        Check(output.Length, (long)count * channels, nameof(output));
        fixed (float* x = input)
        fixed (float* y = output)
            for (int s = 0; s < count; s++)
            {
                float* image = x + (long)s * positions * channels, mean = y + (long)s * channels;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                {
                    Vector256<double> low = default, high = default;
                    for (int p = 0; p < positions; p++)
                    {
                        var values = Vector256.Load(image + (long)p * channels + c);
                        low += Vector256.WidenLower(values);
                        high += Vector256.WidenUpper(values);
                    }
                    var divisor = Vector256.Create((double)positions);
                    Vector256.Narrow(low / divisor, high / divisor).Store(mean + c);
                }
                for (; c < channels; c++)
                {
                    double sum = 0;
                    for (int p = 0; p < positions; p++)
                        sum += image[(long)p * channels + c];
                    mean[c] = (float)(sum / positions);
                }
            }
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.ReLU"/>: <c>max(x, 0)</c>.</summary>
    public static void ReLU(ReadOnlySpan<float> input, Span<float> output, int threads = 0) => Elementwise.Relu(input, output, threads);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.PackedMaxPool"/>: max pooling of packed ±1 values (the AND of each window's words).</summary>
    public static void PackedMaxPool(ReadOnlySpan<ulong> input, Pool2dShape shape, Span<ulong> output, KernelPath path = KernelPath.Auto, int threads = 0) =>
        BnnDsl.Kernels.Cpu.PackedMaxPool.Forward(input, shape, output, path, threads);

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.XnorConv"/> writing bits: packed sign of <c>dot &gt;= threshold[filter]</c>
    /// (a folded BatchNorm + sign). <paramref name="scratch"/>: <see cref="BinaryConv2d.ScratchLength"/> words.
    /// </summary>
    public static void XnorConv(ReadOnlySpan<ulong> input, BinaryConv2dPlan plan, Span<ulong> scratch, ReadOnlySpan<int> threshold, Span<ulong> output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(plan);
        BinaryConv2d.Forward(input, plan, scratch, XnorOutput.Threshold(output, SignPacking.WordsFor(plan.Shape.Filters), threshold), path, threads);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.XnorConv"/> writing floats: <c>scale[filter] * dot + bias[filter]</c>
    /// (multiply, round, add, round: a BatchNorm folded exactly, or ones and zeros for the bare dot products).
    /// </summary>
    public static void XnorConv(ReadOnlySpan<ulong> input, BinaryConv2dPlan plan, Span<ulong> scratch, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(plan);
        BinaryConv2d.Forward(input, plan, scratch, XnorOutput.ScaleBias(output, plan.Shape.Filters, scale, bias), path, threads);
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.XnorDense"/> writing bits through one threshold per unit; input: count flat packed vectors.</summary>
    public static void XnorDense(ReadOnlySpan<ulong> input, int count, XnorPackedB weights, ReadOnlySpan<int> threshold, Span<ulong> output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        XnorGemm.Multiply(input, count, weights.KWords, weights, XnorOutput.Threshold(output, SignPacking.WordsFor(weights.N), threshold), default, path, threads);
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.XnorDense"/> writing <c>scale[unit] * dot + bias[unit]</c> floats.</summary>
    public static void XnorDense(ReadOnlySpan<ulong> input, int count, XnorPackedB weights, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        XnorGemm.Multiply(input, count, weights.KWords, weights, XnorOutput.ScaleBias(output, weights.N, scale, bias), default, path, threads);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.Add"/>: <c>output = main + shortcut</c>, element-wise (as the training
    /// ResidualAdd), and, when <paramref name="signs"/> is not empty, the sum's packed signs in the same pass: rows of
    /// <paramref name="channels"/> values (positions of an image, or whole vectors), ceil(channels / 64) words each.
    /// </summary>
    public static void Add(ReadOnlySpan<float> main, ReadOnlySpan<float> shortcut, Span<float> output, int channels, Span<ulong> signs)
    {
        int length = output.Length, words = SignPacking.WordsFor(channels);
        Check(main.Length, length, nameof(main));
        Check(shortcut.Length, length, nameof(shortcut));
        if (channels <= 0 || length % channels != 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"channels must divide the output length ({length}); pass the channels of one position.");
        int rows = length / channels;
        if (!signs.IsEmpty)
            Check(signs.Length, (long)rows * words, nameof(signs));
        fixed (float* a = main)
        fixed (float* b = shortcut)
        fixed (float* y = output)
        fixed (ulong* bits = signs)
        {
            if (bits == null)
            {
                int i = 0;
                for (; i + 8 <= length; i += 8)
                    (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(y + i);
                for (; i < length; i++)
                    y[i] = a[i] + b[i];
                return;
            }
            for (int r = 0; r < rows; r++)
            {
                long offset = (long)r * channels;
                float* ra = a + offset, rb = b + offset, ry = y + offset;
                ulong* row = bits + (long)r * words;
                for (int w = 0; w < words; w++)
                    row[w] = 0;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                {
                    var sum = Vector256.Load(ra + c) + Vector256.Load(rb + c);
                    sum.Store(ry + c);
                    uint positive = Vector256.GreaterThanOrEqual(sum, Vector256<float>.Zero).ExtractMostSignificantBits();
                    row[c >> 6] |= (ulong)(~positive & 0xFFu) << (c & 63);
                }
                for (; c < channels; c++)
                {
                    float sum = ra[c] + rb[c];
                    ry[c] = sum;
                    if (!(sum >= 0f))
                        row[c >> 6] |= 1UL << (c & 63);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.Quantize"/>: <c>round(clip(x, 0, 1) * (2^bits - 1)) / (2^bits - 1)</c>
    /// (halves to even), as the training QuantizeLayer computes it; <paramref name="bits"/> in 2..8.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> input, int bits, Span<float> output)
    {
        if (bits is < BitPlanes.MinActivationBits or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must lie in 2..8 (1 bit is the sign op).");
        Check(output.Length, input.Length, nameof(output));
        fixed (float* x = input)
        fixed (float* y = output)
            QuantizeLayer.Quantize(x, y, input.Length, (1 << bits) - 1);
    }

    /// <summary>
    /// Floats of the scratch <see cref="BitSerialConv"/> needs: one image's float im2col (output positions × K), or,
    /// on the byte path (<see cref="BitSerialWeights.ByteWeights"/> set), one image's byte codes (input elements / 4;
    /// with the padding of <see cref="ByteConv2d"/> where it runs the shape).
    /// </summary>
    public static int BitSerialColumnsLength(BitSerialWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var image = weights.Image;
        if (weights.ByteWeights is not null)
            return (int)(((ByteConv2d.Prefers(image) ? ByteConv2d.PaddedLength(image) : (long)image.Height * image.Width * image.Channels) + 3) / 4);
        return image.OutputHeight * image.OutputWidth * weights.Weights.K;
    }

    /// <summary>
    /// Words of the activation scratch of <see cref="BitSerialConv"/> (one image) or <see cref="BitSerialDense"/>
    /// (<paramref name="count"/> samples): bit planes, or, on the byte path, one byte per code (rows × K / 8; none
    /// for a convolution <see cref="ByteConv2d"/> runs, which reads the codes in place).
    /// </summary>
    public static int BitSerialPlanesLength(BitSerialWeights weights, int count)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int rows = weights.IsConvolution ? weights.Image.OutputHeight * weights.Image.OutputWidth : count;
        if (weights.ByteWeights is not null)
            return weights.IsConvolution && ByteConv2d.Prefers(weights.Image) ? 0 : (int)(((long)rows * weights.Weights.K + 7) / 8);
        return rows * weights.RowWords;
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.BitSerialConv"/>: per image, the k-bit dot products of the quantized input
    /// with the weights, written as <c>dot / ((2^ka - 1)(2^kw - 1))</c>, then the BatchNorm if any (multiply, round,
    /// add, round): the training QuantizedConv2dLayer and BatchNormLayer's values bit for bit. Widths up to 4 bits
    /// (<see cref="BitSerialWeights.ByteWeights"/> set) quantize the image once into byte codes and, where
    /// <see cref="ByteConv2d.Prefers"/> the shape (KernelW × Channels a multiple of 4, K at most 1280), run
    /// <see cref="ByteConv2d"/> on the zero-padded codes with the BatchNorm in its output stage; otherwise they build
    /// a byte im2col (code 0 in padding; none for a 1×1 stride-1 convolution) and run <see cref="ByteGemm"/>; wider ones build a
    /// float im2col (zero padding, code 0), quantize and pack it into <see cref="BitSerialWeights.ActivationBits"/>
    /// planes and run <see cref="BitSerialGemm"/>. Both give the same integer dots. Scratch:
    /// <see cref="BitSerialColumnsLength"/> floats and <see cref="BitSerialPlanesLength"/> words.
    /// </summary>
    public static void BitSerialConv(ReadOnlySpan<float> input, int count, BitSerialWeights weights, Span<float> columns, Span<ulong> planes,
        Span<float> output, KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var image = weights.Image;
        if (!weights.IsConvolution)
            throw new ArgumentException("The weights are a dense layer's; use BitSerialDense.", nameof(weights));
        int positions = image.OutputHeight * image.OutputWidth, k = weights.Weights.K, filters = weights.Weights.N;
        int imageInput = image.Height * image.Width * image.Channels, rowWords = weights.RowWords;
        Check(input.Length, (long)count * imageInput, nameof(input));
        Check(output.Length, (long)count * positions * filters, nameof(output));
        Check(columns.Length, BitSerialColumnsLength(weights), nameof(columns));
        Check(planes.Length, BitSerialPlanesLength(weights, 1), nameof(planes));
        if (weights.ByteWeights is { } byteWeights && ByteConv2d.Prefers(image))
        {
            var padded = MemoryMarshal.AsBytes(columns)[..(int)ByteConv2d.PaddedLength(image)];
            for (int s = 0; s < count; s++)
            {
                ByteConv2d.QuantizePadded(image, input.Slice(s * imageInput, imageInput), weights.ActivationBits, padded, path, threads);
                ByteConv2d.Forward(image, padded, weights.ActivationBits, byteWeights,
                    XnorOutput.ScaleBias(output.Slice(s * positions * filters, positions * filters), filters, weights.DotScale, weights.Zeros),
                    weights.Scale, weights.Shift, path, threads);
            }
            return;
        }
        if (weights.ByteWeights is { } gemmWeights)
        {
            var codes = MemoryMarshal.AsBytes(columns)[..imageInput];
            var byteColumns = MemoryMarshal.AsBytes(planes)[..(positions * k)];
            bool direct = image is { KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, PadH: 0, PadW: 0 };
            for (int s = 0; s < count; s++)
            {
                ActivationCodes.Quantize(input.Slice(s * imageInput, imageInput), weights.ActivationBits, codes, path);
                if (!direct)
                    ByteIm2Col.Forward(image, codes, byteColumns, threads);
                var y = output.Slice(s * positions * filters, positions * filters);
                ByteGemm.Multiply(direct ? codes : byteColumns, positions, k, weights.ActivationBits, gemmWeights,
                    XnorOutput.ScaleBias(y, filters, weights.DotScale, weights.Zeros), path, threads);
                if (weights.Scale is not null)
                    Affine(y, weights.Scale, weights.Shift!, y);
            }
            return;
        }
        var cols = columns[..(positions * k)];
        for (int s = 0; s < count; s++)
        {
            FloatConv2d.Im2Col(image, input.Slice(s * imageInput, imageInput), cols, threads: 1);
            BitPlanes.PackActivations(cols, positions, k, weights.ActivationBits, planes, rowWords, path);
            var y = output.Slice(s * positions * filters, positions * filters);
            BitSerialGemm.Multiply(planes, positions, rowWords, weights.ActivationBits, weights.Weights,
                XnorOutput.ScaleBias(y, filters, weights.DotScale, weights.Zeros), path, threads);
            if (weights.Scale is not null)
                Affine(y, weights.Scale, weights.Shift!, y);
        }
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.BitSerialDense"/>: the <paramref name="count"/> input vectors quantized
    /// (into byte codes for <see cref="ByteGemm"/> at widths up to 4 bits, else packed into planes for
    /// <see cref="BitSerialGemm"/>; scratch: <see cref="BitSerialPlanesLength"/> words), the GEMM, then the BatchNorm
    /// if any; as the training QuantizedDenseLayer and BatchNormLayer compute them.
    /// </summary>
    public static void BitSerialDense(ReadOnlySpan<float> input, int count, BitSerialWeights weights, Span<ulong> planes, Span<float> output,
        KernelPath path = KernelPath.Auto, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int k = weights.Weights.K, units = weights.Weights.N, rowWords = weights.RowWords;
        Check(input.Length, (long)count * k, nameof(input));
        Check(output.Length, (long)count * units, nameof(output));
        Check(planes.Length, BitSerialPlanesLength(weights, count), nameof(planes));
        var y = output[..(count * units)];
        var scaled = XnorOutput.ScaleBias(y, units, weights.DotScale, weights.Zeros);
        if (weights.ByteWeights is { } byteWeights)
        {
            var codes = MemoryMarshal.AsBytes(planes)[..(count * k)];
            ActivationCodes.Quantize(input[..(count * k)], weights.ActivationBits, codes, path);
            ByteGemm.Multiply(codes, count, k, weights.ActivationBits, byteWeights, scaled, path, threads);
        }
        else
        {
            BitPlanes.PackActivations(input[..(count * k)], count, k, weights.ActivationBits, planes, rowWords, path);
            BitSerialGemm.Multiply(planes, count, rowWords, weights.ActivationBits, weights.Weights, scaled, path, threads);
        }
        if (weights.Scale is not null)
            Affine(y, weights.Scale, weights.Shift!, y);
    }

    private static void Check(int actual, long required, string name)
    {
        if (actual < required)
            throw new ArgumentException($"{name} holds {actual} elements but the operation needs {required}; pass a span sized for count samples of this step.", name);
    }
}
