// Which ILGPU accelerator a GpuDevice runs on.
namespace BnnDsl.Kernels.Gpu;

/// <summary>The accelerator behind a <see cref="GpuDevice"/>.</summary>
public enum GpuDeviceKind
{
    /// <summary>CUDA when a CUDA device is present, else the CPU accelerator.</summary>
    Auto,

    /// <summary>ILGPU's CPU accelerator: runs every kernel on the CPU threads, exactly but slowly (tests, CI).</summary>
    Cpu,

    /// <summary>The first CUDA device.</summary>
    Cuda,
}
