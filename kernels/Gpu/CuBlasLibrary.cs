// Finds cuBLAS for ILGPU.Algorithms, whose bindings name only libcublas.so.10/11/12: also cuBLAS 13 and the pip wheels' copies.
using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// A <see cref="NativeLibrary"/> import resolver for ILGPU.Algorithms' cuBLAS bindings. ILGPU asks for
/// <c>libcublas.so.12</c> (then .11, .10) on Linux or <c>cublas64_12.dll</c> on Windows; the resolver loads the first
/// loadable of <see cref="Candidates"/>: the name asked for (the default search: LD_LIBRARY_PATH, the ldconfig cache),
/// libcublas.so.13, .12 and .11 by name, then those files in $BNN_CUBLAS_DIR, the CUDA toolkit's folders and the
/// folders of the nvidia-cublas pip wheels under Python's site-packages. cuBLAS 13 keeps every entry point ILGPU's
/// <see cref="CuBlas"/> calls, with the same signatures and enum values, so ILGPU's V12 binding runs on it
/// (docs/gpu.md, "cuBLAS").
/// </summary>
internal static class CuBlasLibrary
{
    private const string LinuxPrefix = "libcublas.so";
    private const string WindowsPrefix = "cublas64_";
    private static readonly string[] LinuxFiles = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"];
    private static readonly string[] WindowsFiles = ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"];

    // Site-packages folders (pip's wheels put cuBLAS 13 in nvidia/cu13/lib, cuBLAS 12 and 11 in nvidia/cublas/lib).
    private static readonly string[] SitePackagesPatterns =
    [
        "/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
        "/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages",
        "/opt/conda/lib/python3*/site-packages",
    ];
    private static readonly string[] WheelFolders = ["nvidia/cu13/lib", "nvidia/cublas/lib"];

    private static readonly Lock Gate = new();
    private static nint handle;

    /// <summary>
    /// The cuBLAS library the resolver loaded: its full path where known, else the file name; null until one loaded.
    /// </summary>
    public static string? LoadedPath { get; private set; }

    /// <summary>
    /// Installs the resolver on ILGPU.Algorithms once per process (thread-safe; later calls do nothing). Where that
    /// assembly has a resolver already, ILGPU's default loading stays.
    /// </summary>
    public static void Install() => ImportResolvers.InstallOnce(typeof(CuBlas).Assembly, ResolveImport);

    /// <summary>Whether <paramref name="libraryName"/> names cuBLAS (not cuBLASLt, cuFFT or others).</summary>
    internal static bool IsCuBlas(string libraryName)
        => libraryName.StartsWith(LinuxPrefix, StringComparison.Ordinal)
            || libraryName.StartsWith(WindowsPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The libraries to try, in order, for the request <paramref name="requested"/> (nothing for a library other than
    /// cuBLAS): the request, then the file names of cuBLAS 13, 12 and 11, then those files in each folder:
    /// $BNN_CUBLAS_DIR (a list), the CUDA toolkit's (CUDA_HOME, CUDA_PATH, /usr/local/cuda), then the pip wheels' under
    /// each site-packages folder ($VIRTUAL_ENV, $PYTHONPATH, the system's, conda's, the user's, pyenv's).
    /// <paramref name="environment"/> reads a variable; <paramref name="glob"/> lists the existing folders matching a
    /// pattern with <c>*</c> in its segments. Duplicates are left out.
    /// </summary>
    internal static IEnumerable<string> Candidates(string requested, Func<string, string?> environment, Func<string, IEnumerable<string>> glob)
    {
        if (!IsCuBlas(requested))
            yield break;
        bool windows = requested.StartsWith(WindowsPrefix, StringComparison.OrdinalIgnoreCase);
        string[] files = windows ? WindowsFiles : LinuxFiles;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in files.Prepend(requested))
        {
            if (seen.Add(name))
                yield return name;
        }
        foreach (var folder in windows ? WindowsFolders(environment) : LinuxFolders(environment, glob))
        {
            foreach (var file in files)
            {
                var path = Path.Join(folder, file);
                if (seen.Add(path))
                    yield return path;
            }
        }
    }

    /// <summary>
    /// Loads the first of <see cref="Candidates"/> that <paramref name="tryLoad"/> loads (a handle, or 0 when it
    /// cannot). A full path is tried only where <paramref name="exists"/>, after its folder's cuBLASLt
    /// (libcublas.so.13 needs libcublasLt.so.13, found through RPATH $ORIGIN in the pip wheels but not in every
    /// folder; a failure there is ignored). Returns the handle and what was loaded, or (0, null).
    /// </summary>
    internal static (nint Handle, string? Loaded) Resolve(string requested, Func<string, string?> environment,
        Func<string, IEnumerable<string>> glob, Func<string, bool> exists, Func<string, nint> tryLoad)
    {
        foreach (var candidate in Candidates(requested, environment, glob))
        {
            if (Path.IsPathRooted(candidate))
            {
                if (!exists(candidate))
                    continue;
                tryLoad(LtSibling(candidate));
            }
            nint loaded = tryLoad(candidate);
            if (loaded != 0)
                return (loaded, candidate);
        }
        return (0, null);
    }

    /// <summary>The operating system's load of <paramref name="library"/> (a name or a path): its handle, or 0.</summary>
    internal static nint TryLoad(string library) => NativeLibrary.TryLoad(library, out nint loaded) ? loaded : 0;

    /// <summary>The folders matching <paramref name="pattern"/> (absolute, <c>*</c> within segments), sorted; none if none exist.</summary>
    internal static IEnumerable<string> Glob(string pattern)
    {
        IEnumerable<string> matches = ["/"];
        foreach (var segment in pattern.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            matches = segment.Contains('*')
                ? matches.SelectMany(folder => Subfolders(folder, segment))
                : matches.Select(folder => Path.Join(folder, segment));
        }
        return matches.Where(Directory.Exists);
    }

    /// <summary>
    /// The full path of the first mapped file whose name starts with <paramref name="fileName"/> (Linux's
    /// /proc/self/maps; deleted files left out), or <paramref name="fileName"/> itself where none is found: a library
    /// loaded by name shows where it came from.
    /// </summary>
    internal static string MappedPath(string fileName)
    {
        const string Maps = "/proc/self/maps";
        if (Path.IsPathRooted(fileName) || !File.Exists(Maps))
            return fileName;
        try
        {
            foreach (var line in File.ReadLines(Maps))
            {
                int slash = line.IndexOf('/');
                if (slash >= 0 && !line.EndsWith(" (deleted)", StringComparison.Ordinal)
                    && Path.GetFileName(line.AsSpan(slash)).StartsWith(fileName, StringComparison.Ordinal))
                    return line[slash..];
            }
        }
        catch (IOException)
        {
        }
        return fileName;
    }

    private static nint ResolveImport(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!IsCuBlas(libraryName))
            return 0;
        lock (Gate)
        {
            if (handle == 0)
            {
                var (loaded, path) = Resolve(libraryName, Environment.GetEnvironmentVariable, Glob, File.Exists, TryLoad);
                if (loaded != 0)
                {
                    handle = loaded;
                    LoadedPath = MappedPath(path!);
                }
            }
            return handle;
        }
    }

    private static string LtSibling(string path)
    {
        var file = Path.GetFileName(path);
        var lt = file.StartsWith(WindowsPrefix, StringComparison.OrdinalIgnoreCase)
            ? "cublasLt64_" + file[WindowsPrefix.Length..]
            : "libcublasLt" + file["libcublas".Length..];
        return Path.Join(Path.GetDirectoryName(path), lt);
    }

    private static IEnumerable<string> LinuxFolders(Func<string, string?> environment, Func<string, IEnumerable<string>> glob)
    {
        foreach (var folder in List(environment("BNN_CUBLAS_DIR")))
            yield return folder;
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            if (environment(variable) is { Length: > 0 } root)
                yield return Path.Join(root, "lib64");
        }
        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";

        var sitePackages = new List<string>();
        if (environment("VIRTUAL_ENV") is { Length: > 0 } virtualEnv)
            sitePackages.AddRange(glob(virtualEnv + "/lib/python3*/site-packages"));
        sitePackages.AddRange(List(environment("PYTHONPATH")));
        foreach (var pattern in SitePackagesPatterns)
            sitePackages.AddRange(glob(pattern));
        if (environment("HOME") is { Length: > 0 } home)
        {
            sitePackages.AddRange(glob(home + "/.local/lib/python3*/site-packages"));
            sitePackages.AddRange(glob(home + "/.pyenv/versions/*/lib/python3*/site-packages"));
        }
        foreach (var root in sitePackages)
        {
            foreach (var wheel in WheelFolders)
                yield return Path.Join(root, wheel);
        }
    }

    private static IEnumerable<string> WindowsFolders(Func<string, string?> environment)
    {
        foreach (var folder in List(environment("BNN_CUBLAS_DIR")))
            yield return folder;
        if (environment("CUDA_PATH") is { Length: > 0 } root)
        {
            yield return Path.Join(root, "bin", "x64");  // both layouts: bin\x64, then bin
            yield return Path.Join(root, "bin");
        }
    }

    private static string[] List(string? value)
        => value?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static IEnumerable<string> Subfolders(string folder, string pattern)
    {
        try
        {
            return Directory.Exists(folder)
                ? Directory.GetDirectories(folder, pattern).Order(StringComparer.Ordinal).ToArray()
                : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
