// One parameter tensor of a device network: its values, and for trainable ones the gradient and the optimizer's state
// (Adam's two moments, or SGD's momentum buffer in the first), all on the device.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Training;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The device twin of a host <see cref="Parameter"/> with the same <see cref="Name"/>: values always, and for trainable
/// roles the gradient and the optimizer's state: Adam's first and second moments (the tensors <c>{name}.adam_m</c> and
/// <c>{name}.adam_v</c> of the host <see cref="Adam"/>), or SGD's momentum buffer in the first (<c>{name}.sgd_momentum</c>
/// of the host <see cref="SgdMomentum"/>; the second then stays zero). Allocated once.
/// </summary>
internal sealed class DeviceParameter : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> value;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? gradient, firstMoment, secondMoment;

    public DeviceParameter(GpuDevice device, string name, int length, ParameterRole role)
    {
        Name = name;
        Length = length;
        Role = role;
        value = device.Allocate<float>(length);
        value.View.MemSetToZero();
        if (role == ParameterRole.State)
            return;
        gradient = device.Allocate<float>(length);
        firstMoment = device.Allocate<float>(length);
        secondMoment = device.Allocate<float>(length);
        gradient.View.MemSetToZero();
        firstMoment.View.MemSetToZero();
        secondMoment.View.MemSetToZero();
    }

    /// <summary>The host parameter's name, e.g. <c>conv1.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Elements of the tensor.</summary>
    public int Length { get; }

    /// <summary>The host parameter's role: decides weight decay and the latent-weight clip.</summary>
    public ParameterRole Role { get; }

    /// <summary>Whether the optimizer updates it (every role but State).</summary>
    public bool Trainable => Role != ParameterRole.State;

    /// <summary>The values.</summary>
    public ArrayView<float> Value => value.View;

    /// <summary>dLoss/dValue of the last backward pass.</summary>
    public ArrayView<float> Gradient => Trainable ? gradient!.View : throw NotTrainable();

    /// <summary>Adam's first moment, or SGD's momentum buffer.</summary>
    public ArrayView<float> FirstMoment => Trainable ? firstMoment!.View : throw NotTrainable();

    /// <summary>Adam's second moment (unused by SGD).</summary>
    public ArrayView<float> SecondMoment => Trainable ? secondMoment!.View : throw NotTrainable();

    public void Dispose()
    {
        value.Dispose();
        gradient?.Dispose();
        firstMoment?.Dispose();
        secondMoment?.Dispose();
    }

    private InvalidOperationException NotTrainable() => new($"Parameter '{Name}' is state (role {Role}); it has no gradient or optimizer moments.");
}
