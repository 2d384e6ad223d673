// The accelerators GPU tests run on (the CPU accelerator always, CUDA when present), opened once per test run.
using System.Collections.Concurrent;
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.Kernels.Gpu.Tests;

internal static class GpuTestDevices
{
    private static readonly ConcurrentDictionary<GpuDeviceKind, GpuDevice> Opened = new();

    /// <summary>Every kind present on this machine, for [MemberData].</summary>
    public static TheoryData<GpuDeviceKind> Kinds()
    {
        var data = new TheoryData<GpuDeviceKind>();
        foreach (var kind in GpuDevice.Present)
            data.Add(kind);
        return data;
    }

    /// <summary>The shared device of <paramref name="kind"/>: opened and its kernels compiled once for all tests.</summary>
    public static GpuDevice Get(GpuDeviceKind kind) => Opened.GetOrAdd(kind, GpuDevice.Create);
}
