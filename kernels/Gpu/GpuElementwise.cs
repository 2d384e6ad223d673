// Elementwise training kernels on the accelerator: sign with its straight-through gradient, ReLU and its gradient.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// One thread per element, the math of the runtime's <c>SignLayer</c> and <c>ReLULayer</c>: <c>sign(x)</c> (+1 for
/// x &gt;= 0, −1 otherwise, NaN −1) with the straight-through gradient clipped at 1 (<c>dx = |x| &lt;= 1 ? dy : 0</c>,
/// BinaryNet), and <c>max(x, 0)</c> with <c>dx = x &gt; 0 ? dy : 0</c>. Exact: each output is one comparison.
/// Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuElementwise
{
    /// <summary><c>y = x &gt;= 0 ? +1 : −1</c> for the first <paramref name="count"/> elements.</summary>
    public static void Sign(GpuDevice device, ArrayView<float> x, ArrayView<float> y, int count)
    {
        CheckUnary(device, x, y, count);
        device.Kernel("sign", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(SignKernel))(count, x, y);
    }

    /// <summary>The straight-through estimator of sign: <c>dx = |x| &lt;= 1 ? dy : 0</c>.</summary>
    public static void SignBackward(GpuDevice device, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int count)
    {
        CheckBinary(device, x, dy, dx, count);
        device.Kernel("sign-backward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SignBackwardKernel))(count, x, dy, dx);
    }

    /// <summary><c>y = max(x, 0)</c>.</summary>
    public static void Relu(GpuDevice device, ArrayView<float> x, ArrayView<float> y, int count)
    {
        CheckUnary(device, x, y, count);
        device.Kernel("relu", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ReluKernel))(count, x, y);
    }

    /// <summary><c>dx = x &gt; 0 ? dy : 0</c>.</summary>
    public static void ReluBackward(GpuDevice device, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int count)
    {
        CheckBinary(device, x, dy, dx, count);
        device.Kernel("relu-backward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ReluBackwardKernel))(count, x, dy, dx);
    }

    private static void CheckUnary(GpuDevice device, ArrayView<float> x, ArrayView<float> y, int count)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        GpuChecks.Length(x, count, nameof(x), "count");
        GpuChecks.Length(y, count, nameof(y), "count");
    }

    private static void CheckBinary(GpuDevice device, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int count)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        GpuChecks.Length(x, count, nameof(x), "count");
        GpuChecks.Length(dy, count, nameof(dy), "count");
        GpuChecks.Length(dx, count, nameof(dx), "count");
    }

    private static void SignKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[i] >= 0f ? 1f : -1f;

    private static void SignBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        float value = x[i];
        dx[i] = value >= -1f && value <= 1f ? dy[i] : 0f;
    }

    private static void ReluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        float value = x[i];
        y[i] = value > 0f ? value : 0f;
    }

    private static void ReluBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
        => dx[i] = x[i] > 0f ? dy[i] : 0f;
}
