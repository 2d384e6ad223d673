// Which instruction-set path a kernel runs, detected once at start-up and forceable per call.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>The instruction-set path of a CPU kernel, from the widest down.</summary>
public enum KernelPath
{
    /// <summary>Use <see cref="KernelDispatch.Best"/>.</summary>
    Auto = 0,
    /// <summary>Scalar code: <c>popcnt</c> on 64-bit words, scalar FMA for floats.</summary>
    Scalar = 1,
    /// <summary>256-bit vectors (AVX2 + FMA).</summary>
    Avx2 = 2,
    /// <summary>512-bit vectors (AVX-512 F/BW).</summary>
    Avx512 = 3,
}

/// <summary>
/// Chooses the kernel path once at start-up. Every kernel also takes an explicit path so tests can run
/// each path on one machine. The <see cref="KernelPath.Avx512"/> path is written with <see cref="Vector512{T}"/>
/// so that, where the processor lacks AVX-512, it still runs (through .NET's software fallback for 512-bit
/// vectors): slowly, but exactly, which lets its tiling and tails be tested everywhere.
/// </summary>
public static class KernelDispatch
{
    /// <summary>The widest path this processor runs in hardware.</summary>
    public static KernelPath Best { get; } = Detect();

    /// <summary>True when <paramref name="path"/> runs in hardware here (not through a software fallback).</summary>
    public static bool IsHardwareAccelerated(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        KernelPath.Auto => true,
        _ => false,
    };

    /// <summary>Paths that can run here: every hardware path, plus AVX-512 through the software fallback.</summary>
    public static IReadOnlyList<KernelPath> Runnable { get; } = ComputeRunnable();

    /// <summary>Paths that run in hardware here, widest first; these are the ones worth benchmarking.</summary>
    public static IReadOnlyList<KernelPath> HardwarePaths { get; } =
        [.. new[] { KernelPath.Avx512, KernelPath.Avx2, KernelPath.Scalar }.Where(IsHardwareAccelerated)];

    /// <summary>Replaces <see cref="KernelPath.Auto"/> by <see cref="Best"/>; rejects a path that cannot run here.</summary>
    public static KernelPath Resolve(KernelPath path)
    {
        if (path == KernelPath.Auto)
            return Best;
        if (path == KernelPath.Avx2 && !IsHardwareAccelerated(KernelPath.Avx2))
            throw new PlatformNotSupportedException(
                "KernelPath.Avx2 needs AVX2 and FMA, which this processor lacks; use KernelPath.Auto or KernelPath.Scalar.");
        if (path is < KernelPath.Scalar or > KernelPath.Avx512)
            throw new ArgumentOutOfRangeException(nameof(path), path, "Unknown kernel path; use Auto, Scalar, Avx2 or Avx512.");
        return path;
    }

    private static KernelPath Detect()
    {
        if (IsHardwareAccelerated(KernelPath.Avx512))
            return KernelPath.Avx512;
        if (IsHardwareAccelerated(KernelPath.Avx2))
            return KernelPath.Avx2;
        return KernelPath.Scalar;
    }

    private static KernelPath[] ComputeRunnable()
    {
        var paths = new List<KernelPath> { KernelPath.Scalar };
        if (IsHardwareAccelerated(KernelPath.Avx2))
            paths.Add(KernelPath.Avx2);
        paths.Add(KernelPath.Avx512);
        return [.. paths];
    }
}
