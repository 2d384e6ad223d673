// Seeded random inputs and the list of kernel paths that tests run on.
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
