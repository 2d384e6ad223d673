// The common shape of the layers of a device network: named as the host layer, sized for one batch, forward and
// backward over device views, parameters and buffers allocated once.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Training;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// A layer of a <see cref="DeviceNetwork"/>: the math of the host layer of the same name (see each subclass), on views
/// of device buffers, NHWC and batch-major as on the host. Launches are asynchronous on the device's default stream;
/// nothing is allocated or copied to the host per call. <see cref="Backward"/> follows a training
/// <see cref="Forward"/> of the same input, overwrites the parameter gradients and writes dx when
/// <c>needDx</c>. Layers that need a large temporary (the im2col matrix) ask for <see cref="ScratchLength"/> floats, which
/// the network shares among its layers.
/// </summary>
internal abstract class DeviceLayer : IDisposable
{
    private readonly List<DeviceParameter> parameters = [];
    private readonly List<MemoryBuffer> buffers = [];

    protected DeviceLayer(GpuDevice device, string name, int inputLength, int outputLength)
    {
        Device = device;
        Name = name;
        InputLength = inputLength;
        OutputLength = outputLength;
    }

    /// <summary>The host layer's name, the prefix of its parameters' names.</summary>
    public string Name { get; }

    /// <summary>Floats of input for the whole batch.</summary>
    public int InputLength { get; }

    /// <summary>Floats of output for the whole batch.</summary>
    public int OutputLength { get; }

    /// <summary>Parameters in the host layer's order.</summary>
    public IReadOnlyList<DeviceParameter> Parameters => parameters;

    /// <summary>Floats of shared scratch the layer needs during a call (0: none).</summary>
    public virtual long ScratchLength => 0;

    protected GpuDevice Device { get; }

    /// <summary>Computes y from x; <paramref name="training"/> selects batch statistics in BatchNorm.</summary>
    public abstract void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch);

    /// <summary>Parameter gradients from dy, and dx when <paramref name="needDx"/>.</summary>
    public abstract void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch);

    public void Dispose()
    {
        foreach (var parameter in parameters)
            parameter.Dispose();
        foreach (var buffer in buffers)
            buffer.Dispose();
    }

    /// <summary>Creates the parameter <c>{Name}.{suffix}</c>.</summary>
    protected DeviceParameter NewParameter(string suffix, int length, ParameterRole role)
    {
        var parameter = new DeviceParameter(Device, $"{Name}.{suffix}", length, role);
        parameters.Add(parameter);
        return parameter;
    }

    /// <summary>A buffer owned by the layer, freed with it.</summary>
    protected ArrayView<T> Allocate<T>(long length) where T : unmanaged
    {
        var buffer = Device.Allocate<T>(length);
        buffers.Add(buffer);
        return buffer.View;
    }

    /// <summary>The XNOR tile for an m × n output: 64 × 64 where both sides fill it, else 32 × 32 (less idle threads on small layers).</summary>
    protected static bool LargeTile(long m, int n) => m >= 4096 && n >= 64;
}
