// Small element-wise tensor ops of training on the accelerator: int32 dot products to floats, residual add, gradient accumulation.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// One thread per element, exact: <see cref="ToFloat"/> turns the binary kernels' int32 dot products into the floats a
/// training forward pass writes (exact below 2^24, which every dot K − 2·popcount of a layer is); <see cref="Add"/> is
/// a residual block's <c>y = a + b</c>; <see cref="Accumulate"/> adds a gradient one more path sends back
/// (<c>sum += addend</c>). Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuTensorOps
{
    /// <summary><c>y[i] = (float)x[i]</c> for the first <paramref name="count"/> elements.</summary>
    public static void ToFloat(GpuDevice device, ArrayView<int> x, ArrayView<float> y, int count)
    {
        Check(device, count);
        GpuChecks.Length(x, count, nameof(x), "count");
        GpuChecks.Length(y, count, nameof(y), "count");
        device.Kernel("int32-to-float", typeof(int), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>>(ToFloatKernel))(count, x, y);
    }

    /// <summary><c>y[i] = a[i] + b[i]</c>; y may be a or b.</summary>
    public static void Add(GpuDevice device, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int count)
    {
        Check(device, count);
        GpuChecks.Length(a, count, nameof(a), "count");
        GpuChecks.Length(b, count, nameof(b), "count");
        GpuChecks.Length(y, count, nameof(y), "count");
        device.Kernel("add", typeof(float), acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel))(count, a, b, y);
    }

    /// <summary><c>sum[i] += addend[i]</c>.</summary>
    public static void Accumulate(GpuDevice device, ArrayView<float> sum, ArrayView<float> addend, int count) => Add(device, sum, addend, sum, count);

    private static void Check(GpuDevice device, int count)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
    }

    private static void ToFloatKernel(Index1D i, ArrayView<int> x, ArrayView<float> y) => y[i] = x[i];

    private static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] + b[i];
}
