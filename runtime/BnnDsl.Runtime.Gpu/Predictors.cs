// Opens the runner of a packed model on a chosen device: the CPU interpreter, or a device session.
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Runtime.Devices;

/// <summary>The factory callers use when the device is a choice (<c>bnn --device</c>).</summary>
public static class Predictors
{
    /// <summary>
    /// A runner of <paramref name="model"/> on <paramref name="device"/> for up to <paramref name="batchSize"/> samples
    /// per chunk: the CPU interpreter (<see cref="InferenceSession"/>, on <paramref name="threads"/> cores, 0: all) for the
    /// cpu device, else a <see cref="DeviceSession"/> (threads ignored). Both implement <see cref="IPackedStepOutputs"/>,
    /// which answers when <paramref name="keepStepOutputs"/> is set. Dispose the result when it is <see cref="IDisposable"/>.
    /// </summary>
    public static IPackedPredictor Open(PackedModel model, ComputeDevice device, int batchSize, int threads = 0, bool keepStepOutputs = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(device);
        return device.IsHost
            ? model.CreateSession(batchSize, threads: threads, keepStepOutputs: keepStepOutputs)
            : new DeviceSession(model, device, batchSize, keepStepOutputs);
    }
}
