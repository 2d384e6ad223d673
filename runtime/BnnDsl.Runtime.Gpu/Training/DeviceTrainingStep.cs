// The Trainer's batches on a device: a DeviceNetwork per run, parameters and optimizer state synced to the host network only
// before evaluation and checkpoints.
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// An <see cref="ITrainingStep"/> that trains on an ILGPU device: <see cref="Begin"/> builds a <see cref="DeviceNetwork"/>
/// of the host network's spec and batch size and uploads its parameters and the optimizer state (Adam or SGD; initialized
/// or resumed by the Trainer); each step uploads one batch and its labels and reads back the loss and correct count;
/// <see cref="SyncToHost"/> downloads parameters, BatchNorm statistics, moments and the step count so the Trainer's
/// evaluation and checkpoints (and an exact resume) see the device's state; <see cref="End"/> frees the device buffers.
/// </summary>
public sealed class DeviceTrainingStep : ITrainingStep
{
    private readonly ComputeDevice device;
    private DeviceNetwork? deviceNetwork;
    private Network? network;
    private Optimizer? optimizer;

    /// <summary>Trains on <paramref name="device"/> (cuda or ilgpu-cpu), which the caller keeps open for the run.</summary>
    /// <exception cref="ArgumentException">The device is the host CPU.</exception>
    public DeviceTrainingStep(ComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.IsHost)
            throw new ArgumentException("DeviceTrainingStep needs an ILGPU device (cuda or ilgpu-cpu); on the cpu device use the Trainer without a step.", nameof(device));
        this.device = device;
    }

    /// <inheritdoc/>
    public long Steps => Current.Steps;

    private DeviceNetwork Current => deviceNetwork ?? throw new InvalidOperationException("Call Begin before stepping.");

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">A layer has no device version, or the optimizer is neither Adam nor SgdMomentum.</exception>
    public void Begin(Network network, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        End();
        var created = new DeviceNetwork(device, network.Definition, network.BatchSize);
        try
        {
            created.Upload(network, optimizer);
        }
        catch
        {
            created.Dispose();
            throw;
        }
        deviceNetwork = created;
        this.network = network;
        this.optimizer = optimizer;
    }

    /// <inheritdoc/>
    public TrainingStepResult Step(ReadOnlySpan<float> input, ReadOnlySpan<int> labels, float learningRate)
        => Current.TrainStep(input, labels, learningRate);

    /// <inheritdoc/>
    public void SyncToHost() => Current.Download(network!, optimizer);

    /// <inheritdoc/>
    public void End()
    {
        deviceNetwork?.Dispose();
        deviceNetwork = null;
        network = null;
        optimizer = null;
    }
}
