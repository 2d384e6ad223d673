// How ILGPU's "cuda" import finds the driver: libcuda.so.1 (the driver's soname) before the libcuda.so development link.
namespace BnnDsl.Kernels.Gpu.Tests;

public class CudaDriverLibraryTests
{
    [Fact]
    public void TheCudaImportTriesTheDriverSonameFirstOnLinuxOnly()
    {
        Assert.Equal(["libcuda.so.1", "libcuda.so"], CudaDriverLibrary.Candidates("cuda", linux: true));
        Assert.Empty(CudaDriverLibrary.Candidates("cuda", linux: false));      // Windows: nvcuda.dll, the default search
        Assert.Empty(CudaDriverLibrary.Candidates("nvcuda", linux: true));
        Assert.Empty(CudaDriverLibrary.Candidates("libcublas.so.12", linux: true));
    }

    [Fact]
    public void ResolveLoadsTheFirstCandidateThatLoadsAndFallsBackToTheDefaultSearch()
    {
        var tried = new List<string>();
        nint OnlyTheLink(string name)
        {
            tried.Add(name);
            return name == "libcuda.so" ? 42 : 0;
        }
        Assert.Equal((42, "libcuda.so"), CudaDriverLibrary.Resolve("cuda", linux: true, OnlyTheLink));
        Assert.Equal(["libcuda.so.1", "libcuda.so"], tried);

        tried.Clear();
        Assert.Equal((7, "libcuda.so.1"), CudaDriverLibrary.Resolve("cuda", linux: true, name => { tried.Add(name); return 7; }));
        Assert.Equal(["libcuda.so.1"], tried);

        // Nothing loads (this machine has no driver): 0 lets the runtime's default search run, which fails as before.
        Assert.Equal((0, null), CudaDriverLibrary.Resolve("cuda", linux: true, _ => 0));
        Assert.Equal((0, null), CudaDriverLibrary.Resolve("nvrtc", linux: true, _ => throw new InvalidOperationException("not a driver import")));
    }

    [Fact]
    public void InstallingTwiceIsHarmlessAndCudaPresenceIsStillProbed()
    {
        CudaDriverLibrary.Install();
        CudaDriverLibrary.Install();
        // Whether the loader finds a driver at all (a GPU server's may live in /usr/local/nvidia/lib64, say).
        bool driverLoads = System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out var driver);
        if (driverLoads)
            System.Runtime.InteropServices.NativeLibrary.Free(driver);
        else
            Assert.False(GpuDevice.IsCudaPresent);  // no driver here: still no CUDA device, and no exception
        Assert.Contains(GpuDeviceKind.Cpu, GpuDevice.Present);
    }
}
