// The list of kernel paths that tests run on (random operands: RandomOperands in kernels/Reference).
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Tests;

internal static class TestData
{
    /// <summary>Every path this machine can run (AVX-512 through the software fallback where the CPU lacks it).</summary>
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in KernelDispatch.Runnable)
            data.Add(path);
        return data;
    }
}
