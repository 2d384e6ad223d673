// Element-wise addition on the accelerator: the add that closes a residual block.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>y = a + b</c> element by element, as the runtime's ResidualAdd (one rounding per element, so exact). y may be a
/// or b. One thread per element; launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuAdd
{
    /// <summary>Writes the first <paramref name="count"/> sums into <paramref name="y"/>.</summary>
    public static void Forward(GpuDevice device, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int count)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        GpuChecks.Length(a, count, nameof(a), "count");
        GpuChecks.Length(b, count, nameof(b), "count");
        GpuChecks.Length(y, count, nameof(y), "count");
        device.Kernel("add", typeof(float), accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel))(count, a, b, y);
    }

    private static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] + b[i];
}
