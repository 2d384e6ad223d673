// The base of every generated device inference class (LeNet.Device): checks that a packed model is the network's,
// then its steps run as generated DeviceOps calls with literal shapes on the buffers DeviceRunner keeps on the device.
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// Runs a packed model (<c>.bnnx</c>) on a device through code generated for one network: the generated subclass
/// implements <see cref="DeviceRunner.RunSteps"/> as a flat list of <see cref="DeviceOps"/> calls, every shape a
/// literal but the sample count, each mapped by <c>#line</c> to its layer's declaration; weights, step buffers,
/// chunks, <see cref="DeviceRunner.Predict"/> and <see cref="DeviceRunner.Classify(ReadOnlySpan{float}, int, Span{int})"/>
/// come from <see cref="DeviceRunner"/>, so its logits equal <see cref="DeviceSession"/>'s bit for bit. Not
/// thread-safe; dispose it to free its device memory.
/// </summary>
public abstract class DevicePackedNetwork : DeviceRunner
{
    /// <summary>
    /// Checks that <paramref name="model"/> holds the network <paramref name="spec"/> with the plan <paramref name="plan"/>
    /// the generator derived at compile time, then uploads its weights to <paramref name="device"/> (an ILGPU device)
    /// and allocates buffers for <paramref name="batchSize"/> samples.
    /// </summary>
    /// <exception cref="Checkpoints.ModelFileException">The model holds another network, or its plan differs from the compiled one.</exception>
    /// <exception cref="ArgumentException">The device is the host CPU (use the generated <c>Packed</c> class there).</exception>
    protected DevicePackedNetwork(PackedModel model, NetworkSpec spec, string plan, ComputeDevice device, int batchSize)
        : base(Checked(model, spec, plan), device, batchSize, keepStepOutputs: false)
    {
    }

    private static PackedModel Checked(PackedModel model, NetworkSpec spec, string plan)
    {
        PackedNetwork.CheckModel(model, spec, plan);
        return model;
    }
}
