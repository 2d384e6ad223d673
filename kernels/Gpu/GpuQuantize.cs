// k-bit activation quantization on the accelerator (DoReFa): round(clip(x, 0, 1) · (2^k − 1)) / (2^k − 1), halves to even.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>y = round(clip(x, 0, 1) · L) · (1 / L)</c> with <c>L = 2^bits − 1</c>, rounding halves to even, NaN giving 0:
/// the operations of the runtime's QuantizeLayer (and of the packed interpreter's Quantize step) bit for bit.
/// <see cref="Code"/> is the integer code <c>round(clip(x, 0, 1) · L)</c> the bit-plane packing uses. One thread per
/// element; launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuQuantize
{
    /// <summary>Quantizes the first <paramref name="count"/> elements of <paramref name="x"/> to <paramref name="bits"/> bits (2..8) into <paramref name="y"/> (may be x).</summary>
    public static void Forward(GpuDevice device, ArrayView<float> x, ArrayView<float> y, int count, int bits)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        if (bits is < 2 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must lie in 2..8 (1 bit is the sign op).");
        GpuChecks.Length(x, count, nameof(x), "count");
        GpuChecks.Length(y, count, nameof(y), "count");
        int levels = (1 << bits) - 1;
        device.Kernel("quantize", typeof(float), accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float>(QuantizeKernel))(
            count, x, y, levels, 1f / levels);
    }

    /// <summary>The code <c>round(clip(x, 0, 1) · levels)</c>, halves to even, NaN 0 (usable inside kernels).</summary>
    public static int Code(float x, float levels)
    {
        float clipped = x > 0f ? (x < 1f ? x : 1f) : 0f;
        float scaled = clipped * levels;
        int whole = (int)scaled;
        float fraction = scaled - whole;
        return fraction > 0.5f || (fraction == 0.5f && (whole & 1) != 0) ? whole + 1 : whole;
    }

    private static void QuantizeKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, float levels, float inverse) =>
        y[i] = Code(x[i], levels) * inverse;
}
