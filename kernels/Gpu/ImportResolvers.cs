// Installs a native-library import resolver on an assembly once per process (the cuBLAS and CUDA driver lookups).
using System.Reflection;
using System.Runtime.InteropServices;

namespace BnnDsl.Kernels.Gpu;

/// <summary>One <see cref="NativeLibrary.SetDllImportResolver"/> per assembly, whoever asks first.</summary>
internal static class ImportResolvers
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<Assembly> Installed = [];

    /// <summary>
    /// Sets <paramref name="resolver"/> for <paramref name="assembly"/>'s imports on the first call for that assembly
    /// (thread-safe; later calls do nothing). Where the assembly has a resolver of someone else's already, the
    /// runtime's default search stays.
    /// </summary>
    public static void InstallOnce(Assembly assembly, DllImportResolver resolver)
    {
        lock (Gate)
        {
            if (!Installed.Add(assembly))
                return;
            try
            {
                NativeLibrary.SetDllImportResolver(assembly, resolver);
            }
            catch (InvalidOperationException)
            {
                // Someone else resolves this assembly's imports: the runtime's default search runs instead.
            }
        }
    }
}
