// How cuBLAS is found for ILGPU: candidate order, the resolver with a fake loader, and a real load of a fake libcublas.so.13.
using System.Diagnostics;
using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace BnnDsl.Kernels.Gpu.Tests;

/// <summary>Skips a test, saying why, where gcc is not on PATH.</summary>
public sealed class GccFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when no gcc is on PATH.</summary>
    public GccFactAttribute()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Join(dir, "gcc"))))
            Skip = "gcc is not on PATH (apt-get install gcc): the test compiles a fake libcublas.so.13 to load.";
    }
}

public class CuBlasLibraryTests
{
    private static readonly Dictionary<string, string> FakeEnvironment = new()
    {
        ["BNN_CUBLAS_DIR"] = "/custom",
        ["CUDA_HOME"] = "/toolkit",
        ["PYTHONPATH"] = "/python-path",
        ["HOME"] = "/home/user",
    };

    private static string? Variable(string name) => FakeEnvironment.GetValueOrDefault(name);

    private static IEnumerable<string> Glob(string pattern)
        => pattern == "/usr/local/lib/python3*/dist-packages" ? ["/usr/local/lib/python3.12/dist-packages"] : [];

    private static string[] Versions(string folder) =>
        [$"{folder}/libcublas.so.13", $"{folder}/libcublas.so.12", $"{folder}/libcublas.so.11"];

    [Fact]
    public void LinuxCandidatesAreTheRequestThenCuBlas13To11ByNameThenEachFolderCustomFirst()
    {
        var patterns = new List<string>();
        var candidates = CuBlasLibrary.Candidates("libcublas.so.12", Variable, pattern =>
        {
            patterns.Add(pattern);
            return Glob(pattern);
        }).ToArray();

        string[] expected =
        [
            "libcublas.so.12", "libcublas.so.13", "libcublas.so.11",
            .. Versions("/custom"),
            .. Versions("/toolkit/lib64"),
            .. Versions("/usr/local/cuda/lib64"),
            .. Versions("/usr/local/cuda/targets/x86_64-linux/lib"),
            .. Versions("/python-path/nvidia/cu13/lib"),
            .. Versions("/python-path/nvidia/cublas/lib"),
            .. Versions("/usr/local/lib/python3.12/dist-packages/nvidia/cu13/lib"),
            .. Versions("/usr/local/lib/python3.12/dist-packages/nvidia/cublas/lib"),
        ];
        Assert.Equal(expected, candidates);
        Assert.Contains("/home/user/.local/lib/python3*/site-packages", patterns);
        Assert.Contains("/opt/conda/lib/python3*/site-packages", patterns);
    }

    [Fact]
    public void ARequestForAnotherVersionStillComesFirstAndIsNotRepeated()
    {
        var candidates = CuBlasLibrary.Candidates("libcublas.so.11", _ => null, _ => []).ToArray();
        Assert.Equal(["libcublas.so.11", "libcublas.so.13", "libcublas.so.12"], candidates[..3]);
        Assert.Equal(candidates.Length, candidates.Distinct().Count());
        Assert.Equal("/usr/local/cuda/lib64/libcublas.so.13", candidates[3]);
    }

    [Fact]
    public void WindowsCandidatesAreTheDllsInTheCustomFolderThenTheToolkitsBinFolders()
    {
        string? variable(string name) => name switch { "CUDA_PATH" => "/cuda", "BNN_CUBLAS_DIR" => "/custom", _ => null };
        var candidates = CuBlasLibrary.Candidates("cublas64_12.dll", variable, _ => throw new InvalidOperationException("no glob on Windows")).ToArray();
        Assert.Equal(
        [
            "cublas64_12.dll", "cublas64_13.dll", "cublas64_11.dll",
            "/custom/cublas64_13.dll", "/custom/cublas64_12.dll", "/custom/cublas64_11.dll",
            "/cuda/bin/x64/cublas64_13.dll", "/cuda/bin/x64/cublas64_12.dll", "/cuda/bin/x64/cublas64_11.dll",
            "/cuda/bin/cublas64_13.dll", "/cuda/bin/cublas64_12.dll", "/cuda/bin/cublas64_11.dll",
        ], candidates);
    }

    [Theory]
    [InlineData("libcufft.so.11")]
    [InlineData("libcublasLt.so.13")]
    [InlineData("libnvidia-ml.so.1")]
    [InlineData("cublasLt64_13.dll")]
    public void OtherLibrariesAreNotHandled(string library)
    {
        Assert.False(CuBlasLibrary.IsCuBlas(library));
        Assert.Empty(CuBlasLibrary.Candidates(library, Variable, Glob));
        var (handle, loaded) = CuBlasLibrary.Resolve(library, Variable, Glob, _ => true,
            name => throw new InvalidOperationException($"{name} must not be loaded"));
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Null(loaded);
    }

    [Fact]
    public void ResolverLoadsTheFirstLoadableCandidateAfterItsFoldersCuBlasLt()
    {
        var tried = new List<string>();
        var (handle, loaded) = CuBlasLibrary.Resolve("libcublas.so.12", Variable, Glob,
            exists: path => path.StartsWith("/custom/", StringComparison.Ordinal),
            tryLoad: name =>
            {
                tried.Add(name);
                return name == "/custom/libcublas.so.12" ? 42 : 0;
            });

        Assert.Equal(42, handle);
        Assert.Equal("/custom/libcublas.so.12", loaded);
        Assert.Equal(
        [
            "libcublas.so.12", "libcublas.so.13", "libcublas.so.11",
            "/custom/libcublasLt.so.13", "/custom/libcublas.so.13",
            "/custom/libcublasLt.so.12", "/custom/libcublas.so.12",
        ], tried);
    }

    [Fact]
    public void ResolverFindsNothingWhereNothingLoadsAndTriesOnlyFilesThatExist()
    {
        var tried = new List<string>();
        var (handle, loaded) = CuBlasLibrary.Resolve("libcublas.so.12", Variable, Glob, _ => false, name =>
        {
            tried.Add(name);
            return 0;
        });
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Null(loaded);
        Assert.Equal(["libcublas.so.12", "libcublas.so.13", "libcublas.so.11"], tried);
    }

    [Fact]
    public void GlobListsExistingFoldersMatchingEachStarredSegment()
    {
        var root = Directory.CreateTempSubdirectory("bnn-glob-");
        try
        {
            foreach (var version in new[] { "python3.12", "python3.10", "python2.7" })
                Directory.CreateDirectory(Path.Join(root.FullName, "lib", version, "site-packages"));
            Directory.CreateDirectory(Path.Join(root.FullName, "lib", "python3.11"));  // no site-packages
            Assert.Equal(
                [Path.Join(root.FullName, "lib/python3.10/site-packages"), Path.Join(root.FullName, "lib/python3.12/site-packages")],
                CuBlasLibrary.Glob(root.FullName + "/lib/python3*/site-packages"));
            Assert.Empty(CuBlasLibrary.Glob(root.FullName + "/missing/python3*/site-packages"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void InstallIsIdempotentAndLeavesTheResolverOnIlgpuAlgorithms()
    {
        CuBlasLibrary.Install();
        CuBlasLibrary.Install();
        // A second resolver on the same assembly is refused: ours is set.
        Assert.Throws<InvalidOperationException>(() =>
            NativeLibrary.SetDllImportResolver(typeof(CuBlas).Assembly, (_, _, _) => IntPtr.Zero));
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetVersion(IntPtr handle, out int version);

    [GccFact]
    public void ARequestForCuBlas12LoadsAFakeCuBlas13FromTheCustomFolderWithItsCuBlasLt()
    {
        var folder = Directory.CreateTempSubdirectory("bnn-cublas-");
        try
        {
            // Unique sonames: the fakes must never stand in for a real libcublasLt.so.13 later in this process.
            string tag = Guid.NewGuid().ToString("N")[..12];
            string lt = Path.Join(folder.FullName, "libcublasLt.so.13"), cublas = Path.Join(folder.FullName, "libcublas.so.13");
            File.WriteAllText(Path.Join(folder.FullName, "lt.c"), "int cublasLtGetVersion(void) { return 130000; }\n");
            File.WriteAllText(Path.Join(folder.FullName, "cublas.c"),
                "int cublasLtGetVersion(void);\nint cublasGetVersion_v2(void *handle, int *version) { *version = cublasLtGetVersion(); return 0; }\n");
            Gcc(folder.FullName, "-shared", "-fPIC", $"-Wl,-soname,libfakecublasLt{tag}.so", "-o", lt, "lt.c");
            // Linked against the fake cuBLASLt without an RPATH: it loads only if cuBLASLt is in the process already.
            Gcc(folder.FullName, "-shared", "-fPIC", $"-Wl,-soname,libfakecublas{tag}.so", "-o", cublas, "cublas.c", lt);
            Assert.Equal(IntPtr.Zero, CuBlasLibrary.TryLoad(cublas));

            // The system's search is faked to find nothing, so only the folder can answer, whatever this machine has.
            var (handle, loaded) = CuBlasLibrary.Resolve("libcublas.so.12",
                name => name == "BNN_CUBLAS_DIR" ? folder.FullName : null, _ => [], File.Exists,
                name => Path.IsPathRooted(name) ? CuBlasLibrary.TryLoad(name) : IntPtr.Zero);

            Assert.Equal(cublas, loaded);
            Assert.NotEqual(IntPtr.Zero, handle);
            var getVersion = Marshal.GetDelegateForFunctionPointer<GetVersion>(NativeLibrary.GetExport(handle, "cublasGetVersion_v2"));
            Assert.Equal(0, getVersion(IntPtr.Zero, out int version));
            Assert.Equal(130000, version);
            Assert.Equal(cublas, CuBlasLibrary.MappedPath(cublas));
            string mapped = CuBlasLibrary.MappedPath("libcublas.so.13");  // the first mapped libcublas.so.13*, ours or a real one
            Assert.True(Path.IsPathRooted(mapped), mapped);
            Assert.StartsWith("libcublas.so.13", Path.GetFileName(mapped));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static void Gcc(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("gcc") { WorkingDirectory = folder, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var gcc = Process.Start(start)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.True(gcc.ExitCode == 0, $"gcc {string.Join(' ', arguments)} failed: {errors}");
    }
}
