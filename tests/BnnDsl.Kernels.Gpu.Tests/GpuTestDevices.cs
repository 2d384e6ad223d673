// The accelerators GPU tests run on (the CPU accelerator always, CUDA when present), opened once per test run.
using System.Collections.Concurrent;
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.Kernels.Gpu.Tests;

internal static class GpuTestDevices
{
    private static readonly ConcurrentDictionary<GpuDeviceKind, GpuDevice> Opened = new();

    /// <summary>
    /// The variable that limits the tests to one kind: <c>cuda</c> or <c>ilgpu-cpu</c> (bnn-gpu-check --tests sets
    /// <c>cuda</c>, since CI covers the CPU accelerator); unset, every kind present.
    /// </summary>
    public const string DeviceVariable = "BNN_TEST_DEVICE";

    /// <summary>Every kind present on this machine (or the one <see cref="DeviceVariable"/> names), for [MemberData].</summary>
    public static TheoryData<GpuDeviceKind> Kinds()
    {
        var only = Environment.GetEnvironmentVariable(DeviceVariable)?.Trim().ToLowerInvariant() switch
        {
            null or "" => (GpuDeviceKind?)null,
            "cuda" => GpuDeviceKind.Cuda,
            "ilgpu-cpu" => GpuDeviceKind.Cpu,
            var other => throw new ArgumentException($"{DeviceVariable}='{other}' is not a test device; use cuda or ilgpu-cpu, or leave it unset for every device present."),
        };
        var data = new TheoryData<GpuDeviceKind>();
        foreach (var kind in GpuDevice.Present)
            if (only is null || kind == only)
                data.Add(kind);
        return data;
    }

    /// <summary>The shared device of <paramref name="kind"/>: opened and its kernels compiled once for all tests.</summary>
    public static GpuDevice Get(GpuDeviceKind kind) => Opened.GetOrAdd(kind, GpuDevice.Create);
}
