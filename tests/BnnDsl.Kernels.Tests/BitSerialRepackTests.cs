// BitSerialPackedB.Repack: re-quantizing new weights in place gives the panels of a fresh Pack, allocation-free.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Tests;

public class BitSerialRepackTests
{
    [Fact]
    public void RepackEqualsAFreshPack()
    {
        var random = new Random(41);
        foreach (int bits in new[] { 1, 2, 3, 5, 8 })
            foreach (var (n, k) in new[] { (1, 1), (5, 63), (17, 64), (16, 65), (33, 200) })
            {
                var b = BitSerialPackedB.Pack(Weights(random, n * k), n, k, bits);
                var next = Weights(random, n * k);
                b.Repack(next);
                var fresh = BitSerialPackedB.Pack(next, n, k, bits);
                for (int col = 0; col < n; col++)
                    for (int plane = 0; plane < bits; plane++)
                        for (int w = 0; w < b.KWords; w++)
                            Assert.Equal(fresh.PlaneWord(col, plane, w), b.PlaneWord(col, plane, w));
            }
    }

    [Fact]
    public void RepackAllocatesNothingAndChecksTheLength()
    {
        var random = new Random(42);
        var weights = Weights(random, 20 * 150);
        var b = BitSerialPackedB.Pack(weights, 20, 150, 4);
        b.Repack(weights);
        long before = GC.GetAllocatedBytesForCurrentThread();
        b.Repack(weights);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        var error = Assert.Throws<ArgumentException>(() => b.Repack(new float[10]));
        Assert.Equal("weights", error.ParamName);
    }

    private static float[] Weights(Random random, int count)
    {
        var w = new float[count];
        for (int i = 0; i < count; i++)
            w[i] = (random.NextSingle() * 2f - 1f) * 1.25f;
        return w;
    }
}
