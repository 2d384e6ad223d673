// The CUDA PTX of every kernel a device has loaded, compiled by ILGPU's PTX backend even where no GPU is, so that
// ptxas can assemble (and report registers and spills of) exactly the code a GPU would run.
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;

namespace BnnDsl.Kernels.Gpu;

/// <summary>One kernel as PTX: its cache name and variant on the device, ILGPU's entry name and the PTX module.</summary>
/// <param name="Name">The kernel's name in <see cref="GpuDevice"/>'s cache, e.g. <c>xnor-int32</c>.</param>
/// <param name="Variant">Its compile-time variant (tile and output types, bit widths), e.g. <c>Tile64x64</c>.</param>
/// <param name="EntryName">The <c>.entry</c> ILGPU named it.</param>
/// <param name="Assembly">The PTX module text.</param>
public sealed record PtxKernel(string Name, string Variant, string EntryName, string Assembly)
{
    /// <summary>A file name for the module: name and variant, letters, digits, '-' and '.' only, ending in <c>.ptx</c>.</summary>
    public string FileName
    {
        get
        {
            string stem = Variant.Length == 0 ? Name : $"{Name}.{Variant}";
            return new string([.. stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-')]) + ".ptx";
        }
    }
}

/// <summary>
/// Compiles the kernels this process has loaded (on any <see cref="GpuDevice"/>) to PTX. A kernel loaded on CUDA comes
/// with the PTX the GPU ran; one loaded on ILGPU's CPU accelerator (its source method, index type and specialization)
/// is compiled again by a PTX backend for the architecture asked for, in the given device's context with its algorithm
/// intrinsics. Inline PTX (<c>CudaAsm</c>) is emitted as on a GPU, since <c>CudaAsm.IsSupported</c> is a property of
/// the backend. Run the work first (a check or a test): only kernels it loaded are compiled.
/// </summary>
public static class GpuPtx
{
    /// <summary>The architecture the PTX is compiled for by default: sm_90 (H100, H200).</summary>
    public static readonly CudaArchitecture DefaultArchitecture = CudaArchitecture.SM_90;

    /// <summary>
    /// The PTX ISA version compiled for by default: 7.8, the newest that CUDA 11.8's ptxas (the one Debian packages)
    /// assembles; the GPU's driver JIT accepts older ISA versions.
    /// </summary>
    public static readonly CudaInstructionSet DefaultInstructionSet = CudaInstructionSet.ISA_78;

    /// <summary>
    /// The PTX of every kernel loaded on <paramref name="device"/>, ordered by name and variant; off CUDA compiled for
    /// <paramref name="architecture"/> and <paramref name="instructionSet"/> (default <see cref="DefaultArchitecture"/>
    /// and <see cref="DefaultInstructionSet"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">ILGPU cannot compile a kernel to PTX (the message names it).</exception>
    public static IReadOnlyList<PtxKernel> Compile(GpuDevice device, CudaArchitecture? architecture = null, CudaInstructionSet? instructionSet = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        var target = architecture ?? DefaultArchitecture;
        var loaded = GpuDevice.LoadedKernels.OrderBy(k => k.Name, StringComparer.Ordinal)
            .ThenBy(k => VariantName(k.Variant), StringComparer.Ordinal).ToList();
        using var backend = new PTXBackend(device.Context, target, instructionSet ?? DefaultInstructionSet, nvvmAPI: null!);
        var result = new List<PtxKernel>(loaded.Count);
        foreach (var kernel in loaded)
        {
            if (kernel.Ptx is string ptx)
            {
                result.Add(new PtxKernel(kernel.Name, VariantName(kernel.Variant), EntryName(ptx), ptx));
                continue;
            }
            var entry = kernel.IndexType == IndexType.KernelConfig
                ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method)
                : EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method);
            var specialization = kernel.Specialization;
            try
            {
                var compiled = (PTXCompiledKernel)backend.Compile(entry, specialization);
                result.Add(new PtxKernel(kernel.Name, VariantName(kernel.Variant), compiled.Name, compiled.PTXAssembly));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException(
                    $"Kernel '{kernel.Name}' ({VariantName(kernel.Variant)}, {kernel.Method.DeclaringType?.Name}.{kernel.Method.Name}) does not compile to PTX for {target}: {e.GetBaseException().Message}", e);
            }
        }
        return result;
    }

    /// <summary>A variant type as the file and table name it gets: a tuple's type arguments joined by '+', else the type's name.</summary>
    internal static string VariantName(Type variant) => variant.IsGenericType && variant.FullName?.StartsWith("System.ValueTuple", StringComparison.Ordinal) == true
        ? string.Join("+", variant.GetGenericArguments().Select(VariantName))
        : variant.IsGenericType ? $"{variant.Name[..variant.Name.IndexOf('`')]}-{string.Join("+", variant.GetGenericArguments().Select(VariantName))}" : variant.Name;

    /// <summary>The name of the first <c>.entry</c> of a PTX module.</summary>
    private static string EntryName(string ptx)
    {
        int start = ptx.IndexOf(".entry ", StringComparison.Ordinal);
        if (start < 0)
            return "";
        start += ".entry ".Length;
        int end = ptx.IndexOfAny(['(', ' ', '\n'], start);
        return end < 0 ? ptx[start..] : ptx[start..end];
    }
}
