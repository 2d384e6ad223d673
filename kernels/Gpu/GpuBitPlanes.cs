// k-bit activation packing on the accelerator: floats quantized to codes and stored as bit planes, for dense rows or
// for a convolution's patches read straight from the NHWC image (an implicit im2col, zero padding = code 0).
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Writes the row layout of <see cref="BitPlanes"/>: row r holds <c>bits</c> planes of <c>WordsFor(k)</c> words
/// (bit p of each code, least significant plane first), bits past k zero; the codes are
/// <see cref="GpuQuantize.Code"/> of the floats, as <see cref="BitPlanes.PackActivations"/> computes them (exact).
/// <see cref="PackRows"/> packs rows of k floats; <see cref="PackPatches"/> packs each output position's patch of a
/// convolution (k = KernelH · KernelW · Channels in (ky, kx, c) order, taps outside the image 0), so the bit-serial GEMM
/// then computes the convolution. One thread per (row, word). Launches are asynchronous on the default stream.
/// </summary>
public static class GpuBitPlanes
{
    /// <summary>Packs <paramref name="rows"/> rows of <paramref name="k"/> floats into <c>rows · bits · WordsFor(k)</c> words of <paramref name="planes"/>.</summary>
    public static void PackRows(GpuDevice device, ArrayView<float> source, int rows, int k, int bits, ArrayView<ulong> planes)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(k, nameof(k));
        CheckBits(bits);
        int words = BitPlanes.WordsFor(k);
        GpuChecks.Length(source, (long)rows * k, nameof(source), "rows * k");
        GpuChecks.Length(planes, (long)rows * bits * words, nameof(planes), "rows * bits * ceil(k / 64) words");
        GpuChecks.FitsInt(Math.Max((long)rows * k, (long)rows * bits * words), "rows * k");
        var geometry = new PatchGeometry(1, 1, k, 1, 1, 1, 1, 0, 0, 1, 1, k, words, bits);
        Launch(device, source, geometry, rows, planes);
    }

    /// <summary>
    /// Packs the patches of every output position of <paramref name="shape"/> (<c>OutputPositions</c> rows of
    /// <c>KernelH · KernelW · Channels</c> codes) from the NHWC <paramref name="input"/> into <paramref name="planes"/>.
    /// </summary>
    public static void PackPatches(GpuDevice device, ArrayView<float> input, Conv2dShape shape, int bits, ArrayView<ulong> planes)
    {
        GpuChecks.Device(device, nameof(device));
        shape.Validate();
        CheckBits(bits);
        int k = shape.KernelH * shape.KernelW * shape.Channels, words = BitPlanes.WordsFor(k);
        GpuChecks.Length(input, (long)shape.Batch * shape.Height * shape.Width * shape.Channels, nameof(input), "Batch * Height * Width * Channels");
        GpuChecks.Length(planes, (long)shape.OutputPositions * bits * words, nameof(planes), "OutputPositions * bits * ceil(k / 64) words");
        GpuChecks.FitsInt(Math.Max((long)shape.OutputPositions * bits * words, (long)shape.Batch * shape.Height * shape.Width * shape.Channels), "the input or the planes");
        var geometry = new PatchGeometry(shape.Height, shape.Width, shape.Channels, shape.KernelH, shape.KernelW, shape.StrideH, shape.StrideW,
            shape.PadH, shape.PadW, shape.OutputHeight, shape.OutputWidth, k, words, bits);
        Launch(device, input, geometry, shape.OutputPositions, planes);
    }

    private static void CheckBits(int bits)
    {
        if (bits is < BitPlanes.MinActivationBits or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"bits must lie in {BitPlanes.MinActivationBits}..{BitPlanes.MaxBits} (1-bit inputs are sign-packed).");
    }

    private static void Launch(GpuDevice device, ArrayView<float> input, PatchGeometry geometry, int rows, ArrayView<ulong> planes) =>
        device.Kernel("bit-planes", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, PatchGeometry, ArrayView<float>, ArrayView<ulong>>(PackKernel))(rows * geometry.Words, geometry, input, planes);

    /// <summary>One thread per (row, word): the codes of its (up to) 64 patch elements, one plane word per bit.</summary>
    private static void PackKernel(Index1D index, PatchGeometry g, ArrayView<float> input, ArrayView<ulong> planes)
    {
        int row = index / g.Words, word = index - row * g.Words;
        int perImage = g.OutputHeight * g.OutputWidth, image = row / perImage, rest = row - image * perImage;
        int oy = rest / g.OutputWidth, ox = rest - oy * g.OutputWidth;
        int top = oy * g.StrideH - g.PadH, left = ox * g.StrideW - g.PadW;
        int first = word * 64, count = IntrinsicMath.Min(64, g.K - first);
        float levels = (1 << g.Bits) - 1;
        ulong p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
        int tap = first / g.Channels, channel = first - tap * g.Channels;
        for (int b = 0; b < count; b++)
        {
            int ky = tap / g.KernelW, kx = tap - ky * g.KernelW, iy = top + ky, ix = left + kx;
            int code = 0;
            if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width)
                code = GpuQuantize.Code(input[((image * g.Height + iy) * g.Width + ix) * g.Channels + channel], levels);
            ulong bit = 1UL << b;
            p0 |= (code & 1) != 0 ? bit : 0UL;
            p1 |= (code & 2) != 0 ? bit : 0UL;
            p2 |= (code & 4) != 0 ? bit : 0UL;
            p3 |= (code & 8) != 0 ? bit : 0UL;
            p4 |= (code & 16) != 0 ? bit : 0UL;
            p5 |= (code & 32) != 0 ? bit : 0UL;
            p6 |= (code & 64) != 0 ? bit : 0UL;
            p7 |= (code & 128) != 0 ? bit : 0UL;
            if (++channel == g.Channels)
            {
                channel = 0;
                tap++;
            }
        }
        int planeBase = row * g.Bits * g.Words + word;
        planes[planeBase] = p0;
        planes[planeBase + g.Words] = p1;
        if (g.Bits > 2) planes[planeBase + 2 * g.Words] = p2;
        if (g.Bits > 3) planes[planeBase + 3 * g.Words] = p3;
        if (g.Bits > 4) planes[planeBase + 4 * g.Words] = p4;
        if (g.Bits > 5) planes[planeBase + 5 * g.Words] = p5;
        if (g.Bits > 6) planes[planeBase + 6 * g.Words] = p6;
        if (g.Bits > 7) planes[planeBase + 7 * g.Words] = p7;
    }

    /// <summary>A patch geometry (dense rows: a 1 × 1 image of K channels and a 1 × 1 kernel), its K, words per plane and bits.</summary>
    internal readonly record struct PatchGeometry(int Height, int Width, int Channels, int KernelH, int KernelW, int StrideH, int StrideW,
        int PadH, int PadW, int OutputHeight, int OutputWidth, int K, int Words, int Bits);
}
