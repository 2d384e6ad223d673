// The --device option of run, bench and verify: which device runs the packed model.
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Cli;

/// <summary>Reads <c>--device cpu|cuda|ilgpu-cpu</c> (default cpu) and opens the device; <see cref="Predictors.Open"/> then gives the model's runner on it.</summary>
internal static class DeviceOption
{
    /// <summary>The option's name.</summary>
    public const string Name = "--device";

    /// <summary>
    /// Opens the device <paramref name="arguments"/> names. An unknown name is a <see cref="UsageException"/> (the
    /// usage follows), a device this machine lacks a <see cref="DeviceUnavailableException"/> (one line): exit code 2.
    /// </summary>
    public static ComputeDevice Open(Arguments arguments)
    {
        string name = arguments.Value(Name) ?? "cpu";
        ComputeDeviceKind kind;
        try
        {
            kind = ComputeDevice.Parse(name);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"option {Name} takes one of {ComputeDevice.Names}, not '{name}'");
        }
        return ComputeDevice.Open(kind);
    }
}
