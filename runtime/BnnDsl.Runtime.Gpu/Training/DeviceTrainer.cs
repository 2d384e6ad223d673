// Creates the Trainer for a chosen device: the host loop on the cpu device, a DeviceTrainingStep on cuda or ilgpu-cpu.
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Devices;

/// <summary>The <see cref="Trainer"/> of <c>--device cpu|cuda|ilgpu-cpu</c>.</summary>
public static class DeviceTrainer
{
    /// <summary>
    /// A Trainer that runs its batches on <paramref name="device"/>: the host network itself on the cpu device, else a
    /// <see cref="DeviceTrainingStep"/> (the device must stay open until <see cref="Trainer.Run"/> returns). Data order,
    /// schedule, evaluation (on the host), checkpoints and resume are the Trainer's own.
    /// </summary>
    /// <exception cref="NotSupportedException">On a GPU device: a layer has no device version.</exception>
    public static Trainer Create(Network network, LabeledImages train, LabeledImages test, TrainerOptions options, ComputeDevice device,
        ITrainingObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        if (device.IsHost)
            return new Trainer(network, train, test, options, observer);
        DeviceNetwork.ThrowIfUnsupported(network.Definition);
        return new Trainer(network, train, test, options, observer, new DeviceTrainingStep(device));
    }
}
