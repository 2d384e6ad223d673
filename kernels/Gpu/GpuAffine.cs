// Per-channel affine transforms on the accelerator: y = x · scale[c] + shift[c] (a BatchNorm in evaluation form) and y += bias[c].
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Over <c>rows × channels</c> floats (channels innermost, NHWC): <see cref="Forward"/> writes
/// <c>y = x · scale[c] + shift[c]</c> (multiply, round, add, round, as the runtime's BatchNorm evaluation mode and the
/// packed interpreter's Affine step; x and y may be the same buffer) and <see cref="AddBias"/> adds <c>bias[c]</c> in
/// place. One thread per element. Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuAffine
{
    /// <summary><c>y = x · scale[c] + shift[c]</c> for the first <c>rows · channels</c> elements.</summary>
    public static void Forward(GpuDevice device, ArrayView<float> x, int rows, int channels, ArrayView<float> scale, ArrayView<float> shift,
        ArrayView<float> y)
    {
        Check(device, rows, channels, (x, nameof(x)), (y, nameof(y)));
        GpuChecks.Length(scale, channels, nameof(scale), "one float per channel");
        GpuChecks.Length(shift, channels, nameof(shift), "one float per channel");
        device.Kernel("affine", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel))(
            rows * channels, channels, x, scale, shift, y);
    }

    /// <summary><c>y += bias[c]</c> for the first <c>rows · channels</c> elements.</summary>
    public static void AddBias(GpuDevice device, ArrayView<float> y, int rows, int channels, ArrayView<float> bias)
    {
        Check(device, rows, channels, (y, nameof(y)));
        GpuChecks.Length(bias, channels, nameof(bias), "one float per channel");
        device.Kernel("add-bias", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>>(AddBiasKernel))(rows * channels, channels, y, bias);
    }

    private static void Check(GpuDevice device, int rows, int channels, params (ArrayView<float> View, string Name)[] views)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(channels, nameof(channels));
        GpuChecks.FitsInt((long)rows * channels, "rows * channels");
        foreach (var (view, name) in views)
            GpuChecks.Length(view, (long)rows * channels, name, "rows * channels");
    }

    private static void ForwardKernel(Index1D index, int channels, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> y)
    {
        int c = index % channels;
        float scaled = x[index] * scale[c];
        y[index] = scaled + shift[c];
    }

    private static void AddBiasKernel(Index1D index, int channels, ArrayView<float> y, ArrayView<float> bias) => y[index] += bias[index % channels];
}
