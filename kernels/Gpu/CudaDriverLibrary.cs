// Finds the CUDA driver for ILGPU, whose bindings import "cuda" (the runtime probes libcuda.so): also the driver's
// soname libcuda.so.1, which is all that a container or a machine without CUDA's development files may hold.
using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// A <see cref="NativeLibrary"/> import resolver for ILGPU's CUDA driver bindings. ILGPU 1.5.3 imports the driver API
/// as <c>cuda</c>, which .NET looks up on Linux as <c>libcuda.so</c>: a link that the NVIDIA driver's development
/// files or the CUDA toolkit's stubs provide, not the driver itself (it installs <c>libcuda.so.1</c>; container
/// runtimes mount that one). Without the link ILGPU would see no CUDA device on a machine that has one. The resolver
/// loads <c>libcuda.so.1</c> first, then <c>libcuda.so</c>; elsewhere (Windows: <c>nvcuda.dll</c>) it leaves the
/// default search alone.
/// </summary>
internal static class CudaDriverLibrary
{
    /// <summary>The driver library the resolver loaded; null until one loaded (or where the default search did).</summary>
    public static string? Loaded { get; private set; }

    /// <summary>
    /// Installs the resolver on ILGPU's assembly once per process (thread-safe; later calls do nothing). Where that
    /// assembly has a resolver already, the default search stays.
    /// </summary>
    public static void Install() => ImportResolvers.InstallOnce(typeof(Context).Assembly, ResolveImport);

    /// <summary>
    /// The libraries to try for the import <paramref name="requested"/> on a system whose shared libraries are
    /// <c>.so</c> files (<paramref name="linux"/>): the driver's soname and the development link for <c>cuda</c>,
    /// nothing for any other import or system.
    /// </summary>
    internal static IReadOnlyList<string> Candidates(string requested, bool linux)
        => linux && requested == "cuda" ? ["libcuda.so.1", "libcuda.so"] : [];

    /// <summary>The first of <see cref="Candidates"/> that <paramref name="tryLoad"/> loads: its handle and name, or (0, null).</summary>
    internal static (nint Handle, string? Loaded) Resolve(string requested, bool linux, Func<string, nint> tryLoad)
    {
        foreach (var candidate in Candidates(requested, linux))
        {
            nint handle = tryLoad(candidate);
            if (handle != 0)
                return (handle, candidate);
        }
        return (0, null);
    }

    private static nint ResolveImport(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var (handle, loaded) = Resolve(libraryName, OperatingSystem.IsLinux(), CuBlasLibrary.TryLoad);
        if (handle != 0)
            Loaded ??= loaded;
        return handle;
    }
}
