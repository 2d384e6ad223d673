// The typed error for a device that cannot be opened on this machine.
namespace BnnDsl.Runtime.Devices;

/// <summary>The requested device is not present here (e.g. <c>--device cuda</c> on a machine without an NVIDIA driver or GPU).</summary>
public sealed class DeviceUnavailableException : InvalidOperationException
{
    /// <summary>Creates the error for <paramref name="kind"/>, saying why and what to use instead.</summary>
    public DeviceUnavailableException(ComputeDeviceKind kind, string reason)
        : base($"Device '{ComputeDevice.NameOf(kind)}' cannot be opened: {reason} Use --device cpu (or ilgpu-cpu to run the GPU kernels on the CPU).")
    {
        Kind = kind;
    }

    /// <summary>The device asked for.</summary>
    public ComputeDeviceKind Kind { get; }
}
