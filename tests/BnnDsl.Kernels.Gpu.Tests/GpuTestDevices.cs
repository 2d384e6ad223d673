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

    public static float[] Floats(Random random, int count, float zeroShare = 0.05f)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = random.NextSingle() < zeroShare ? 0f : random.NextSingle() * 2f - 1f;
        return x;
    }

    /// <summary>Random packed rows of <paramref name="bits"/> real bits each, tail bits zero.</summary>
    public static ulong[] PackedRows(Random random, int rows, int bits)
    {
        int words = (bits + 63) / 64;
        var data = new ulong[rows * words];
        for (int r = 0; r < rows; r++)
            for (int w = 0; w < words; w++)
            {
                ulong word = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
                int valid = Math.Min(64, bits - w * 64);
                data[r * words + w] = valid == 64 ? word : word & ((1UL << valid) - 1);
            }
        return data;
    }
}
