// The pooling layers of a device network: max (argmax kept for backward), average, and global average.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using ILGPU;

namespace BnnDsl.Runtime.Devices;

/// <summary>The host <c>MaxPoolLayer</c>: the maximum over each window, dy routed back to the first maximum (<see cref="GpuMaxPool"/>).</summary>
internal sealed class DeviceMaxPoolLayer : DeviceLayer
{
    private readonly Pool2dShape shape;
    private readonly ArrayView<int> argmax;

    public DeviceMaxPoolLayer(GpuDevice device, string name, Pool2dShape shape)
        : base(device, name, shape.Batch * shape.Height * shape.Width * shape.Channels, shape.OutputPositions * shape.Channels)
    {
        this.shape = shape;
        argmax = Allocate<int>(OutputLength);
    }

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
        => GpuMaxPool.Forward(Device, x, shape, y, argmax);

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        if (needDx)
            GpuMaxPool.Backward(Device, dy, argmax, shape, dx);
    }
}

/// <summary>The host <c>AvgPoolLayer</c>: the mean over each window, dy spread evenly back (<see cref="GpuAvgPool"/>).</summary>
internal sealed class DeviceAvgPoolLayer : DeviceLayer
{
    private readonly Pool2dShape shape;

    public DeviceAvgPoolLayer(GpuDevice device, string name, Pool2dShape shape)
        : base(device, name, shape.Batch * shape.Height * shape.Width * shape.Channels, shape.OutputPositions * shape.Channels)
        => this.shape = shape;

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
        => GpuAvgPool.Forward(Device, x, shape, y);

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        if (needDx)
            GpuAvgPool.Backward(Device, dy, shape, dx);
    }
}

/// <summary>The host <c>GlobalAvgPoolLayer</c>: the mean over all positions per channel; dx = dy / positions.</summary>
internal sealed class DeviceGlobalAvgPoolLayer : DeviceLayer
{
    private readonly int batch, positions, channels;

    public DeviceGlobalAvgPoolLayer(GpuDevice device, string name, int batch, int positions, int channels)
        : base(device, name, batch * positions * channels, batch * channels)
    {
        this.batch = batch;
        this.positions = positions;
        this.channels = channels;
    }

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
        => GpuAvgPool.GlobalForward(Device, x, batch, positions, channels, y);

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        if (needDx)
            GpuAvgPool.GlobalBackward(Device, dy, batch, positions, channels, dx);
    }
}
