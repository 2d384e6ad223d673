// One ILGPU context and accelerator (CUDA or the CPU accelerator), with every kernel loaded once and cached.
using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.PTX;
using System.Reflection;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// An accelerator the GPU kernels run on: CUDA when present (<see cref="GpuDeviceKind.Auto"/>), else ILGPU's CPU
/// accelerator, which runs the same kernels exactly on CPU threads. Kernels are compiled on first use and cached per
/// device; cuBLAS is bound on first use on CUDA (see <see cref="IsCuBlasAvailable"/>). Not thread-safe for launches:
/// one device, one caller at a time.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private static readonly Lazy<bool> CudaPresent = new(ProbeCuda);

    private static readonly ConcurrentDictionary<(string Kernel, Type Variant), LoadedKernel> Loaded = new();

    private readonly Context context;
    private readonly ConcurrentDictionary<(string Kernel, Type Variant), Delegate> kernels = new();
    private CuBlas? cuBlas;
    private string? cuBlasProblem;

    private GpuDevice(Context context, Accelerator accelerator, GpuDeviceKind kind)
    {
        this.context = context;
        Accelerator = accelerator;
        Kind = kind;
    }

    /// <summary>Whether this process can open a CUDA device (a driver and at least one device).</summary>
    public static bool IsCudaPresent => CudaPresent.Value;

    /// <summary>Every kind this machine can open: <see cref="GpuDeviceKind.Cpu"/> always, then CUDA when present.</summary>
    public static IReadOnlyList<GpuDeviceKind> Present =>
        IsCudaPresent ? [GpuDeviceKind.Cpu, GpuDeviceKind.Cuda] : [GpuDeviceKind.Cpu];

    /// <summary>The kind actually opened (never <see cref="GpuDeviceKind.Auto"/>).</summary>
    public GpuDeviceKind Kind { get; }

    /// <summary>The ILGPU accelerator; allocate buffers on it and pass their views to the kernels.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The accelerator's name, e.g. "NVIDIA H100 80GB HBM3" or "CPUAccelerator".</summary>
    public string Name => Accelerator.Name;

    /// <summary>The most threads one group may hold on this accelerator.</summary>
    public int MaxGroupSize => Accelerator.MaxNumThreadsPerGroup;

    /// <summary>
    /// Opens <paramref name="kind"/>: Auto takes CUDA when present, else the CPU accelerator. Asking for CUDA where
    /// none is present throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public static GpuDevice Create(GpuDeviceKind kind = GpuDeviceKind.Auto)
    {
        if (kind == GpuDeviceKind.Auto)
            kind = IsCudaPresent ? GpuDeviceKind.Cuda : GpuDeviceKind.Cpu;
        if (kind == GpuDeviceKind.Cuda)
        {
            if (!IsCudaPresent)
                throw new InvalidOperationException(
                    "No CUDA device is present (no NVIDIA driver or no device); open GpuDeviceKind.Cpu or Auto instead.");
            return Open(b => b.Cuda(), context => context.CreateCudaAccelerator(0), GpuDeviceKind.Cuda);
        }
        if (kind != GpuDeviceKind.Cpu)
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind must be Auto, Cpu or Cuda.");
        // The Nvidia-like CPU device: warps of 32 and groups up to 1024 threads, so every tile variant runs unchanged.
        return Open(b => b.CPU(CPUDeviceKind.Nvidia), context => context.CreateCPUAccelerator(0), GpuDeviceKind.Cpu);
    }

    private static GpuDevice Open(Func<Context.Builder, Context.Builder> devices, Func<Context, Accelerator> create, GpuDeviceKind kind)
    {
        // EnableAlgorithms gives the PTX backend its implementations of Math.Exp / Math.Log (the loss kernel needs them).
        var context = Context.Create(b => devices(b).Optimize(OptimizationLevel.O2).EnableAlgorithms());
        try
        {
            return new GpuDevice(context, create(context), kind);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Allocates a dense buffer of <paramref name="length"/> elements on this device.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged
        => Accelerator.Allocate1D<T>(length);

    /// <summary>Waits until every launched kernel and copy has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>The kernel <paramref name="name"/> for <paramref name="variant"/>, loaded by <paramref name="load"/> on first use.</summary>
    internal TDelegate Kernel<TDelegate>(string name, Type variant, Func<Accelerator, TDelegate> load) where TDelegate : Delegate
        => (TDelegate)kernels.GetOrAdd((name, variant), static (key, state) => Register(key, state.Load(state.Accelerator)), (Load: load, Accelerator));

    private static Delegate Register((string Kernel, Type Variant) key, Delegate launcher)
    {
        var compiled = launcher.GetKernel().CompiledKernel;
        Loaded.TryAdd(key, new LoadedKernel(key.Kernel, key.Variant, compiled.SourceMethod, compiled.IndexType,
            compiled.Specialization, (compiled as PTXCompiledKernel)?.PTXAssembly));
        return launcher;
    }

    /// <summary>
    /// Every kernel any device of this process has loaded, in no particular order: its cache name and variant, its
    /// source method, index type and specialization (what <see cref="GpuPtx"/> compiles), and on CUDA the PTX it runs.
    /// </summary>
    internal static IEnumerable<LoadedKernel> LoadedKernels => Loaded.Values;

    /// <summary>The ILGPU context of this device (where <see cref="GpuPtx"/> creates its PTX backend).</summary>
    internal Context Context => context;

    /// <summary>
    /// Whether cuBLAS runs here: a CUDA device and a loadable cuBLAS library (it ships with the CUDA toolkit, not the
    /// driver). Binds cuBLAS on first use; <see cref="CuBlasProblem"/> says why not.
    /// </summary>
    public bool IsCuBlasAvailable => LoadCuBlas() is not null;

    /// <summary>Why cuBLAS cannot run on this device, or null when it can.</summary>
    public string? CuBlasProblem
    {
        get
        {
            LoadCuBlas();
            return cuBlasProblem;
        }
    }

    /// <summary>
    /// The CUDA driver library ILGPU bound through <see cref="Gpu.CudaDriverLibrary"/> (<c>libcuda.so.1</c>, or the
    /// <c>libcuda.so</c> link), or null where the runtime's default search found it or no driver was found.
    /// </summary>
    public static string? CudaDriverLibrary => Gpu.CudaDriverLibrary.Loaded;

    /// <summary>
    /// The cuBLAS library bound (a full path where known, e.g. a pip wheel's libcublas.so.13), or null where cuBLAS
    /// does not run here or the runtime's default search loaded it.
    /// </summary>
    public string? CuBlasLibrary => LoadCuBlas() is null ? null : Gpu.CuBlasLibrary.LoadedPath;

    /// <summary>cuBLAS bound to this CUDA accelerator's default stream, FP32 math (no TF32, no tensor cores).</summary>
    internal CuBlas CuBlas => LoadCuBlas() ?? throw new InvalidOperationException(
        $"cuBLAS cannot run on this device: {cuBlasProblem} Use GpuSgemmEngine.Tiled.");

    private CuBlas? LoadCuBlas()
    {
        if (cuBlas is not null || cuBlasProblem is not null)
            return cuBlas;
        if (Accelerator is not CudaAccelerator cuda)
        {
            cuBlasProblem = $"cuBLAS needs a CUDA device; this device is {Kind}.";
            return null;
        }
        try
        {
            Gpu.CuBlasLibrary.Install();
            cuBlas = new CuBlas(cuda) { MathMode = CuBlasMathMode.DefaultMath };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException
            or NotSupportedException or CuBlasException)
        {
            cuBlasProblem = Gpu.CuBlasLibrary.LoadedPath is string loaded
                ? $"cuBLAS at {loaded} loaded, but ILGPU could not bind it ({e.GetType().Name}: {e.Message})."
                : $"cuBLAS could not be loaded ({e.GetType().Name}: {e.Message}); install the CUDA toolkit's libcublas or the pip package nvidia-cublas, or name its folder in BNN_CUBLAS_DIR or LD_LIBRARY_PATH.";
        }
        return cuBlas;
    }

    /// <summary>Releases cuBLAS, the accelerator and the context.</summary>
    public void Dispose()
    {
        cuBlas?.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }

    private static bool ProbeCuda()
    {
        Gpu.CudaDriverLibrary.Install();
        try
        {
            using var probe = Context.Create(b => b.Cuda());
            return probe.GetCudaDevices().Count > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>A kernel as <see cref="GpuDevice"/> loaded it: what <see cref="GpuPtx"/> needs to compile it again, and its PTX where it ran on CUDA.</summary>
internal sealed record LoadedKernel(string Name, Type Variant, MethodInfo Method, IndexType IndexType, KernelSpecialization Specialization, string? Ptx);
