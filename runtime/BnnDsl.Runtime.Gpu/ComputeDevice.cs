// The device abstraction: the host CPU, or an ILGPU accelerator (CUDA, or ILGPU's CPU accelerator for tests).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// A device a network runs on, opened once and shared by the runners and trainers created on it. <see cref="ComputeDeviceKind.Cpu"/>
/// uses the CPU kernels on host memory; the ILGPU kinds hold a <see cref="GpuDevice"/> whose buffers stay on the
/// device. Not thread-safe for launches: one device, one caller at a time.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly GpuDevice? gpu;

    private ComputeDevice(ComputeDeviceKind kind, GpuDevice? gpu)
    {
        Kind = kind;
        this.gpu = gpu;
    }

    /// <summary>The names <see cref="Parse"/> accepts, for help texts and errors.</summary>
    public const string Names = "cpu, cuda, ilgpu-cpu";

    /// <summary>The kind opened.</summary>
    public ComputeDeviceKind Kind { get; }

    /// <summary>Whether this is the host CPU (no ILGPU accelerator).</summary>
    public bool IsHost => gpu is null;

    /// <summary>The ILGPU device behind a CUDA or ILGPU-CPU device.</summary>
    /// <exception cref="InvalidOperationException">This is the host CPU device.</exception>
    public GpuDevice Gpu => gpu ?? throw new InvalidOperationException("The cpu device has no ILGPU accelerator; open cuda or ilgpu-cpu for GPU kernels.");

    /// <summary>What runs the work, e.g. "cpu (2 cores, Avx2)", "cuda: NVIDIA H100 80GB HBM3" or "ilgpu-cpu: CPUAccelerator".</summary>
    public string Description => gpu is null
        ? $"cpu ({Environment.ProcessorCount} cores, {KernelDispatch.Resolve(KernelPath.Auto)})"
        : $"{NameOf(Kind)}: {gpu.Name}";

    /// <summary>The name of <paramref name="kind"/> on the command line.</summary>
    public static string NameOf(ComputeDeviceKind kind) => kind switch
    {
        ComputeDeviceKind.Cpu => "cpu",
        ComputeDeviceKind.Cuda => "cuda",
        ComputeDeviceKind.IlgpuCpu => "ilgpu-cpu",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"kind must be one of {Names}."),
    };

    /// <summary>Reads a device name (<c>cpu</c>, <c>cuda</c> or <c>ilgpu-cpu</c>, any case).</summary>
    /// <exception cref="ArgumentException">The name is none of those.</exception>
    public static ComputeDeviceKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "cpu" => ComputeDeviceKind.Cpu,
            "cuda" or "gpu" => ComputeDeviceKind.Cuda,
            "ilgpu-cpu" => ComputeDeviceKind.IlgpuCpu,
            _ => throw new ArgumentException($"Unknown device '{name}'; use one of {Names} (--device cuda needs an NVIDIA GPU).", nameof(name)),
        };
    }

    /// <summary>Opens the device named <paramref name="name"/> (see <see cref="Parse"/>).</summary>
    public static ComputeDevice Open(string name) => Open(Parse(name));

    /// <summary>Opens <paramref name="kind"/>.</summary>
    /// <exception cref="DeviceUnavailableException">CUDA was asked for and no CUDA device is present.</exception>
    public static ComputeDevice Open(ComputeDeviceKind kind)
    {
        switch (kind)
        {
            case ComputeDeviceKind.Cpu:
                return new ComputeDevice(kind, null);
            case ComputeDeviceKind.Cuda:
                if (!GpuDevice.IsCudaPresent)
                    throw new DeviceUnavailableException(kind, "no CUDA device is present (no NVIDIA driver, or no GPU).");
                return new ComputeDevice(kind, GpuDevice.Create(GpuDeviceKind.Cuda));
            case ComputeDeviceKind.IlgpuCpu:
                return new ComputeDevice(kind, GpuDevice.Create(GpuDeviceKind.Cpu));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, $"kind must be one of {Names}.");
        }
    }

    /// <summary>Every kind this machine can open: cpu and ilgpu-cpu always, cuda when present.</summary>
    public static IReadOnlyList<ComputeDeviceKind> Present =>
        GpuDevice.IsCudaPresent ? [ComputeDeviceKind.Cpu, ComputeDeviceKind.IlgpuCpu, ComputeDeviceKind.Cuda] : [ComputeDeviceKind.Cpu, ComputeDeviceKind.IlgpuCpu];

    /// <summary>Releases the accelerator (nothing for the cpu device).</summary>
    public void Dispose() => gpu?.Dispose();
}
