// Which float GEMM implementation GpuSgemm runs.
namespace BnnDsl.Kernels.Gpu;

/// <summary>The implementation behind <see cref="GpuSgemm"/>.</summary>
public enum GpuSgemmEngine
{
    /// <summary>cuBLAS where it runs (CUDA with the cuBLAS library), the tiled kernel elsewhere.</summary>
    Auto,

    /// <summary>cuBLAS SGEMM in FP32 math (no TF32); CUDA only.</summary>
    CuBlas,

    /// <summary>Our shared-memory tiled kernel (<see cref="Tile64x64"/>); runs on every accelerator.</summary>
    Tiled,
}
