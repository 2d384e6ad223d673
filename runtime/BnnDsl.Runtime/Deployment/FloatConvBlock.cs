// The interpreter's fused float convolution: per image, im2col + SGEMM, then bias, BatchNorm scale + shift, max
// pooling and sign-packing in one pass over the cache-resident result.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// One work item per image, so each core keeps its image's im2col rows and GEMM output (LeNet's conv1: 57 KB and
/// 147 KB) in its own L2 and the batch never round-trips through memory as floats. The arithmetic is the float
/// path's, operation for operation: <c>acc = Σ_k col * w</c> (the same SGEMM micro-kernel and summation order),
/// <c>v = acc + bias</c>, <c>v = v * scale + shift</c> (multiply, round, add, round, as BatchNorm's evaluation
/// mode), max over the window, then sign (bit 1 for v &lt; 0 or NaN): the bits equal sign() of the training
/// network's values exactly. Scratch is per thread ([ThreadStatic], grown once), so calls allocate nothing.
/// </summary>
internal unsafe struct FloatConvBlock : IParallelJob
{
    [ThreadStatic] private static float[]? columnsBuffer;
    [ThreadStatic] private static float[]? productBuffer;

    public Conv2dShape Image; // Batch = 1
    public float* Input, Weight, Bias, Scale, Shift, OutputFloats;
    public ulong* OutputBits;
    public int PoolKernel, PoolStride, OutputHeight, OutputWidth;
    public KernelPath Path;

    public readonly void Run(int index)
    {
        var shape = Image;
        int filters = shape.Filters, k = shape.KernelH * shape.KernelW * shape.Channels;
        int rows = shape.OutputHeight * shape.OutputWidth, imageInput = shape.Height * shape.Width * shape.Channels;
        var columns = Grow(ref columnsBuffer, rows * k);
        var product = Grow(ref productBuffer, (rows + 1) * filters);
        FloatConv2d.Im2Col(shape, new ReadOnlySpan<float>(Input + (long)index * imageInput, imageInput), columns, threads: 1);
        Sgemm.Multiply(false, true, rows, filters, k, 1f, columns, k, new ReadOnlySpan<float>(Weight, filters * k), k, 0f, product, filters, Path, threads: 1);
        fixed (float* p = product)
        {
            Transform(p, rows, filters);
            int outputs = OutputHeight * OutputWidth;
            if (OutputBits != null)
            {
                int words = SignPacking.WordsFor(filters);
                ulong* bits = OutputBits + (long)index * outputs * words;
                for (int o = 0; o < outputs; o++)
                    PackSigns(Window(p, o), bits + (long)o * words, filters);
            }
            else
            {
                float* output = OutputFloats + (long)index * outputs * filters;
                for (int o = 0; o < outputs; o++)
                    new ReadOnlySpan<float>(Window(p, o), filters).CopyTo(new Span<float>(output + (long)o * filters, filters));
            }
        }
    }

    /// <summary>v = acc + bias, then v * scale + shift, in place.</summary>
    private readonly void Transform(float* p, int rows, int filters)
    {
        if (Bias == null && Scale == null)
            return;
        for (int r = 0; r < rows; r++)
        {
            float* row = p + (long)r * filters;
            int c = 0;
            for (; c + 8 <= filters; c += 8)
            {
                var v = Vector256.Load(row + c);
                if (Bias != null)
                    v += Vector256.Load(Bias + c);
                if (Scale != null)
                    v = v * Vector256.Load(Scale + c) + Vector256.Load(Shift + c);
                v.Store(row + c);
            }
            for (; c < filters; c++)
            {
                float v = row[c];
                if (Bias != null)
                    v += Bias[c];
                if (Scale != null)
                    v = v * Scale[c] + Shift[c];
                row[c] = v;
            }
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
