// What the processor is and what this process may use of it, for the head of every bnn-cpu-check run: benchmark
// numbers from another machine mean something only with its model, its instruction sets and the cores pinned.
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.CpuCheck;

internal static class CpuInfo
{
    /// <summary>Processor model, the instruction sets the kernels use, the kernel path chosen, and the cores.</summary>
    public static string Describe()
    {
        string model = "unknown";
        try
        {
            model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                ?.Split(':', 2)[1].Trim() ?? model;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        var sets = new List<string>();
        if (Avx2.IsSupported) sets.Add("AVX2");
        if (Fma.IsSupported) sets.Add("FMA");
        if (AvxVnni.IsSupported) sets.Add("AVX-VNNI");
        if (Avx512F.IsSupported) sets.Add("AVX-512F");
        if (Avx512BW.IsSupported) sets.Add("AVX-512BW");
        if (Avx512Vbmi.IsSupported) sets.Add("AVX-512VBMI");
        if (Vector512.IsHardwareAccelerated) sets.Add("Vector512 accelerated");
        return string.Create(CultureInfo.InvariantCulture,
            $"processor: {model}; {string.Join(", ", sets)}; kernel path {KernelDispatch.Best} " +
            $"(hardware paths: {string.Join(", ", KernelDispatch.HardwarePaths)}); {Environment.ProcessorCount} of the machine's cores for this process" +
            $"{(Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT") is { Length: > 0 } n ? $" (DOTNET_PROCESSOR_COUNT={n})" : "")}; .NET {Environment.Version}");
    }
}
