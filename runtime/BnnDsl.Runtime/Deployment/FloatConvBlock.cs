// The interpreter's fused float convolution: per image, im2col + SGEMM, then bias, BatchNorm scale + shift, max
// pooling and sign-packing in one pass over the cache-resident result.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// One work item per image, so each core keeps its image's im2col rows and GEMM output (LeNet's conv1: 57 KB and
/// 147 KB) in its own L2 and the batch never round-trips through memory as floats. The arithmetic is the float
/// path's, operation for operation: <c>v = bias + Σ_k col * w</c> (FloatConv2d's SGEMM call: C starts as the
/// bias, same micro-kernel and summation order), <c>v = v * scale + shift</c> (multiply, round, add, round, as BatchNorm's evaluation
/// mode), max over the window, then sign (bit 1 for v &lt; 0 or NaN): the bits equal sign() of the training
/// network's values exactly. Scratch is per thread ([ThreadStatic], grown once), so calls allocate nothing.
/// <para>
/// On the Avx2 path, for convolutions with a multiple of 16 filters and K &lt;= 256 (LeNet's conv1, ResNet-18's stem
/// on a zero-padded copy of each image, its 1x1 shortcuts), a direct kernel
/// replaces im2col + SGEMM: tiles of 6 output positions × 16 filters in 12 accumulators, each K step two weight
/// loads (weights transposed to K × Filters), six broadcasts read straight from the image, 12 FMAs, with the bias
/// and BatchNorm applied in registers before the store. Its accumulators start at zero and take the FMAs in the
/// same K order (ky, kx, c) as the SGEMM micro-kernels, so the values are bit-identical; it only skips the copies.
/// </para>
/// </summary>
internal unsafe struct FloatConvBlock : IParallelJob
{
    [ThreadStatic] private static float[]? columnsBuffer;
    [ThreadStatic] private static float[]? productBuffer;
    [ThreadStatic] private static float[]? paddedBuffer;

    public Conv2dShape Image; // Batch = 1
    public float* Input, Weight, WeightT, Bias, Scale, Shift, OutputFloats;
    public int* Offsets;
    public ulong* OutputBits;
    public int PoolKernel, PoolStride, OutputHeight, OutputWidth;
    public KernelPath Path;

    /// <summary>Work items per image (direct kernel only): bands of output rows, so a small batch still uses every core.</summary>
    public int Parts;

    public readonly void Run(int index)
    {
        var shape = Image;
        int filters = shape.Filters, k = shape.KernelH * shape.KernelW * shape.Channels;
        int rows = shape.OutputHeight * shape.OutputWidth, imageInput = shape.Height * shape.Width * shape.Channels;
        int parts = Math.Max(1, Parts), image = index / parts, part = index % parts;
        // this item's band of output rows [first, end), and the conv rows it reads [convFirst, convEnd)
        int first = OutputHeight * part / parts, end = OutputHeight * (part + 1) / parts;
        int convFirst = PoolKernel == 0 ? first : first * PoolStride;
        int convEnd = PoolKernel == 0 ? end : (end - 1) * PoolStride + PoolKernel;
        var product = Grow(ref productBuffer, (rows + 1) * filters);
        fixed (float* p = product)
        {
            if (WeightT != null)
            {
                float* source = Input + (long)image * imageInput;
                if (shape.PadH == 0 && shape.PadW == 0)
                {
                    Direct(source, p, convFirst * shape.OutputWidth, convEnd * shape.OutputWidth, k);
                }
                else
                {
                    fixed (float* padded = Pad(source))
                        Direct(padded, p, convFirst * shape.OutputWidth, convEnd * shape.OutputWidth, k);
                }
            }
            else
            {
                var columns = Grow(ref columnsBuffer, rows * k);
                FloatConv2d.Im2Col(shape, new ReadOnlySpan<float>(Input + (long)image * imageInput, imageInput), columns, threads: 1);
                // as FloatConv2d.Forward: C starts as the bias and every K slice of the SGEMM adds to it
                float beta = 0f;
                if (Bias != null)
                {
                    var bias = new ReadOnlySpan<float>(Bias, filters);
                    for (int r = 0; r < rows; r++)
                        bias.CopyTo(product.AsSpan(r * filters, filters));
                    beta = 1f;
                }
                Sgemm.Multiply(false, true, rows, filters, k, 1f, columns, k, new ReadOnlySpan<float>(Weight, filters * k), k, beta, product, filters, Path, threads: 1);
                Normalize(p, rows, filters);
            }
            int outputs = OutputHeight * OutputWidth;
            if (OutputBits != null)
            {
                int words = SignPacking.WordsFor(filters);
                ulong* bits = OutputBits + (long)image * outputs * words;
                for (int o = first * OutputWidth; o < end * OutputWidth; o++)
                    PackSigns(Window(p, o), bits + (long)o * words, filters);
            }
            else
            {
                float* output = OutputFloats + (long)image * outputs * filters;
                for (int o = first * OutputWidth; o < end * OutputWidth; o++)
                    new ReadOnlySpan<float>(Window(p, o), filters).CopyTo(new Span<float>(output + (long)o * filters, filters));
            }
        }
    }

    /// <summary>
    /// Whether <see cref="Direct"/> runs <paramref name="shape"/> on <paramref name="path"/>: AVX2 + FMA, filters a
    /// multiple of 16, and K at most 256, the SGEMM's K slice (a longer K is summed slice by slice there, which the
    /// direct kernel's single chain would not reproduce bit for bit). A padded convolution reads a zero-padded copy of
    /// each image: the padded taps add <c>0 * w</c> to the chain, as the zero columns of im2col do in the SGEMM.
    /// </summary>
    public static bool SupportsDirect(Conv2dShape shape, KernelPath path) =>
        path == KernelPath.Avx2 && Fma.IsSupported && shape.Filters % 16 == 0 && shape.KernelH * shape.KernelW * shape.Channels <= 256;

    /// <summary>Input offsets of the K steps, (ky, kx, c) order, relative to a window's top-left cell of the (zero-padded) image.</summary>
    public static int[] DirectOffsets(Conv2dShape shape)
    {
        var offsets = new int[shape.KernelH * shape.KernelW * shape.Channels];
        int k = 0, width = shape.Width + 2 * shape.PadW;
        for (int ky = 0; ky < shape.KernelH; ky++)
            for (int kx = 0; kx < shape.KernelW; kx++)
                for (int c = 0; c < shape.Channels; c++)
                    offsets[k++] = (ky * width + kx) * shape.Channels + c;
        return offsets;
    }

    /// <summary>The image at <paramref name="source"/> with PadH zero rows and PadW zero columns around it, in a per-thread buffer.</summary>
    private readonly float[] Pad(float* source)
    {
        var shape = Image;
        int channels = shape.Channels, width = shape.Width + 2 * shape.PadW, height = shape.Height + 2 * shape.PadH;
        var padded = Grow(ref paddedBuffer, height * width * channels);
        padded.AsSpan(0, height * width * channels).Clear();
        for (int y = 0; y < shape.Height; y++)
            new ReadOnlySpan<float>(source + (long)y * shape.Width * channels, shape.Width * channels)
                .CopyTo(padded.AsSpan(((y + shape.PadH) * width + shape.PadW) * channels, shape.Width * channels));
        return padded;
    }

    /// <summary>The direct kernel (see the class summary): transformed values of output positions [start, end) of one (zero-padded) image into <paramref name="p"/>.</summary>
    private readonly void Direct(float* image, float* p, int start, int end, int k)
    {
        var shape = Image;
        int filters = shape.Filters, outputWidth = shape.OutputWidth, width = shape.Width + 2 * shape.PadW;
        float** windows = stackalloc float*[6];
        for (int p0 = start; p0 < end; p0 += 6)
        {
            int valid = Math.Min(6, end - p0);
            for (int r = 0; r < 6; r++)
            {
                int position = p0 + Math.Min(r, valid - 1), oy = position / outputWidth, ox = position % outputWidth;
                windows[r] = image + ((long)oy * shape.StrideH * width + (long)ox * shape.StrideW) * shape.Channels;
            }
            for (int f = 0; f < filters; f += 16)
                DirectTile(windows, p + (long)p0 * filters + f, f, k, valid);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void DirectTile(float** windows, float* output, int f, int k, int valid)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* w0 = windows[0], w1 = windows[1], w2 = windows[2], w3 = windows[3], w4 = windows[4], w5 = windows[5];
        int filters = Image.Filters;
        float* b = WeightT + f;
        int* offsets = Offsets;
        for (int step = 0; step < k; step++, b += filters)
        {
            int o = offsets[step];
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var x = Avx.BroadcastScalarToVector256(w0 + o);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Avx.BroadcastScalarToVector256(w1 + o);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Avx.BroadcastScalarToVector256(w2 + o);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Avx.BroadcastScalarToVector256(w3 + o);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Avx.BroadcastScalarToVector256(w4 + o);
            c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Avx.BroadcastScalarToVector256(w5 + o);
            c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
        }
        StoreTransformed(c00, c01, output, f);
        if (valid > 1) StoreTransformed(c10, c11, output + filters, f);
        if (valid > 2) StoreTransformed(c20, c21, output + 2L * filters, f);
        if (valid > 3) StoreTransformed(c30, c31, output + 3L * filters, f);
        if (valid > 4) StoreTransformed(c40, c41, output + 4L * filters, f);
        if (valid > 5) StoreTransformed(c50, c51, output + 5L * filters, f);
    }

    /// <summary>Stores 16 filters' (acc + bias) * scale + shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void StoreTransformed(Vector256<float> lo, Vector256<float> hi, float* output, int f)
    {
        if (Bias != null)
        {
            lo = Avx.Add(lo, Avx.LoadVector256(Bias + f));
            hi = Avx.Add(hi, Avx.LoadVector256(Bias + f + 8));
        }
        if (Scale != null)
        {
            lo = Avx.Add(Avx.Multiply(lo, Avx.LoadVector256(Scale + f)), Avx.LoadVector256(Shift + f));
            hi = Avx.Add(Avx.Multiply(hi, Avx.LoadVector256(Scale + f + 8)), Avx.LoadVector256(Shift + f + 8));
        }
        Avx.Store(output, lo);
        Avx.Store(output + 8, hi);
    }

    /// <summary>v = v * scale + shift, in place (nothing without a BatchNorm).</summary>
    private readonly void Normalize(float* p, int rows, int filters)
    {
        if (Scale == null)
            return;
        for (int r = 0; r < rows; r++)
        {
            float* row = p + (long)r * filters;
            int c = 0;
            for (; c + 8 <= filters; c += 8)
                (Vector256.Load(row + c) * Vector256.Load(Scale + c) + Vector256.Load(Shift + c)).Store(row + c);
            for (; c < filters; c++)
                row[c] = row[c] * Scale[c] + Shift[c];
        }
    }

    /// <summary>
    /// The values of output position <paramref name="o"/>: the transformed row itself without pooling, else the
    /// window's maximum, gathered in the spare row after the GEMM output.
    /// </summary>
    private readonly float* Window(float* p, int o)
    {
        int filters = Image.Filters;
        if (PoolKernel == 0)
            return p + (long)o * filters;
        int oy = o / OutputWidth, ox = o % OutputWidth, width = Image.OutputWidth;
        float* max = p + (long)Image.OutputHeight * width * filters; // the spare row after the GEMM output
        float* first = p + ((long)(oy * PoolStride) * width + ox * PoolStride) * filters;
        new Span<float>(first, filters).CopyTo(new Span<float>(max, filters));
        for (int ky = 0; ky < PoolKernel; ky++)
            for (int kx = 0; kx < PoolKernel; kx++)
            {
                if (ky == 0 && kx == 0)
                    continue;
                float* cell = p + ((long)(oy * PoolStride + ky) * width + ox * PoolStride + kx) * filters;
                int c = 0;
                for (; c + 8 <= filters; c += 8)
                    Vector256.Max(Vector256.Load(max + c), Vector256.Load(cell + c)).Store(max + c);
                for (; c < filters; c++)
                    max[c] = MathF.Max(max[c], cell[c]);
            }
        return max;
    }

    /// <summary>Bit c of word c / 64 = 1 when v[c] &lt; 0 or NaN (sign -1), tail bits zero.</summary>
    private static void PackSigns(float* v, ulong* words, int channels)
    {
        int wordCount = SignPacking.WordsFor(channels);
        for (int w = 0; w < wordCount; w++)
            words[w] = 0;
        int c = 0;
        for (; c + 8 <= channels; c += 8)
        {
            uint positive = Vector256.GreaterThanOrEqual(Vector256.Load(v + c), Vector256<float>.Zero).ExtractMostSignificantBits();
            words[c >> 6] |= (ulong)(~positive & 0xFFu) << (c & 63);
        }
        for (; c < channels; c++)
            if (!(v[c] >= 0f))
                words[c >> 6] |= 1UL << (c & 63);
    }

    private static float[] Grow(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
            buffer = new float[length];
        return buffer;
    }
}
