// The activation layers of a device network: 1-bit QActivation (sign, straight-through gradient) and ReLU.
using BnnDsl.Kernels.Gpu;
using ILGPU;

namespace BnnDsl.Runtime.Devices;

/// <summary>The host <c>SignLayer</c>: <c>y = sign(x)</c>, <c>dx = |x| &lt;= 1 ? dy : 0</c> (BinaryNet's STE).</summary>
internal sealed class DeviceSignLayer(GpuDevice device, string name, int length) : DeviceLayer(device, name, length, length)
{
    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
        => GpuElementwise.Sign(Device, x, y, InputLength);

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        if (needDx)
            GpuElementwise.SignBackward(Device, x, dy, dx, InputLength);
    }
}

/// <summary>The host <c>ReLULayer</c>: <c>y = max(x, 0)</c>, <c>dx = x &gt; 0 ? dy : 0</c>.</summary>
internal sealed class DeviceReluLayer(GpuDevice device, string name, int length) : DeviceLayer(device, name, length, length)
{
    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
        => GpuElementwise.Relu(Device, x, y, InputLength);

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        if (needDx)
            GpuElementwise.ReluBackward(Device, x, dy, dx, InputLength);
    }
}
