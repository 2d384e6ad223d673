// The devices a user can pick with --device.
namespace BnnDsl.Runtime.Devices;

/// <summary>Where a network runs: <c>--device cpu|cuda|ilgpu-cpu</c>.</summary>
public enum ComputeDeviceKind
{
    /// <summary>The CPU kernels (SIMD, all cores): the packed interpreter and the generated code.</summary>
    Cpu,

    /// <summary>The first CUDA GPU through ILGPU; buffers stay in GPU memory across layers and steps.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator: the CUDA kernels, run exactly but slowly on CPU threads (tests and CI).</summary>
    IlgpuCpu,
}
