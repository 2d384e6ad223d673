// SGEMM against the double-precision reference: every transpose pair, edge tiles, strides, alpha/beta, blocking, threads.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class SgemmTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    private static bool Emulated(KernelPath path) => !KernelDispatch.IsHardwareAccelerated(path);

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesReferenceForMAndNFrom1To70InEveryTransposeCombination(KernelPath path)
    {
        var random = new Random(17);
        int step = Emulated(path) ? 7 : 3;
        foreach (var (transposeA, transposeB) in TransposePairs)
            for (int m = 1; m <= 70; m += step)
                for (int n = 1 + m % 4; n <= 70; n += step + 2)
                    Check(random, transposeA, transposeB, m, n, 1 + random.Next(70), 1f, 0f, path, threads: 1, extraStride: 0);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesReferenceForKFrom1To70WithOddStrides(KernelPath path)
    {
        var random = new Random(23);
        int step = Emulated(path) ? 5 : 1;
        foreach (var (transposeA, transposeB) in TransposePairs)
            for (int k = 1; k <= 70; k += step)
                Check(random, transposeA, transposeB, 1 + random.Next(20), 1 + random.Next(40), k, 1f, 0f, path, threads: 1, extraStride: 1 + k % 5);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AlphaAndBetaScaleTheProductAndTheOldC(KernelPath path)
    {
        var random = new Random(31);
        foreach (var (transposeA, transposeB) in TransposePairs)
            foreach (float beta in new[] { 0f, 1f, -0.75f })
                foreach (float alpha in new[] { 1f, 2.5f })
                    Check(random, transposeA, transposeB, 13, 37, 29, alpha, beta, path, threads: 2, extraStride: 3);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void CrossesEveryCacheBlockBoundary(KernelPath path)
    {
        var random = new Random(41);
        // K past KC (256), M past MC (144), N past NC (4080 for AVX2) with the product split across 2 threads.
        var shapes = Emulated(path)
            ? new[] { (20, 40, 300), (150, 33, 20) }
            : new[] { (40, 70, 600), (300, 50, 257), (7, 4100, 9), (150, 100, 513) };
        foreach (var (m, n, k) in shapes)
            foreach (var (transposeA, transposeB) in TransposePairs)
                Check(random, transposeA, transposeB, m, n, k, 1f, 0.5f, path, threads: 2, extraStride: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void BetaZeroIgnoresNaNInC(KernelPath path)
    {
        var random = new Random(5);
        int m = 9, n = 21, k = 17;
        var a = RandomOperands.Floats(random, m * k);
        var b = RandomOperands.Floats(random, k * n);
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        Sgemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n, path);
        var expected = new float[m * n];
        SgemmReference.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, expected, n);
        FloatAssert.Close(expected, c, "beta 0 over NaN");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ZeroKScalesCByBetaAndLeavesColumnsPastNAlone(KernelPath path)
    {
        var c = new float[] { 1, 2, 99, 3, 4, 99 };
        Sgemm.Multiply(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0.5f, c, 3, path);
        Assert.Equal(new float[] { 0.5f, 1, 99, 1.5f, 2, 99 }, c);
        Sgemm.Multiply(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0f, c, 3, path);
        Assert.Equal(new float[] { 0, 0, 99, 0, 0, 99 }, c);
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var random = new Random(2);
        int m = 200, n = 300, k = 400;
        var a = RandomOperands.Floats(random, m * k);
        var b = RandomOperands.Floats(random, k * n);
        var c = new float[m * n];
        void Run(KernelPath path)
        {
            Sgemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, path, threads: 2);
            Sgemm.Multiply(true, false, m, n, k, 1f, a, m, b, n, 1f, c, n, path, threads: 1);
        }
        foreach (var path in KernelDispatch.HardwarePaths)
        {
            for (int warmUp = 0; warmUp < 3; warmUp++)
                Run(path);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(path);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void BadArgumentsNameTheArgument()
    {
        var a = new float[12];
        var b = new float[12];
        var c = new float[9];
        Assert.Equal("lda", Assert.Throws<ArgumentOutOfRangeException>(() => Sgemm.Multiply(false, false, 3, 3, 4, 1f, a, 3, b, 3, 0f, c, 3)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentOutOfRangeException>(() => Sgemm.Multiply(false, false, 3, 3, 4, 1f, a, 4, b, 3, 0f, c, 2)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Sgemm.Multiply(false, false, 3, 3, 4, 1f, a, 4, b, 4, 0f, c, 3)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Sgemm.Multiply(false, false, 3, 4, 4, 1f, a, 4, new float[16], 4, 0f, c, 4)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Sgemm.Multiply(false, false, -1, 3, 4, 1f, a, 4, b, 3, 0f, c, 3)).ParamName);
    }

    private static readonly (bool, bool)[] TransposePairs = [(false, false), (false, true), (true, false), (true, true)];

    private static void Check(Random random, bool transposeA, bool transposeB, int m, int n, int k, float alpha, float beta,
        KernelPath path, int threads, int extraStride)
    {
        int aRows = transposeA ? k : m, aCols = transposeA ? m : k;
        int bRows = transposeB ? n : k, bCols = transposeB ? k : n;
        int lda = aCols + extraStride, ldb = bCols + extraStride, ldc = n + extraStride;
        var a = RandomOperands.Floats(random, (aRows - 1) * lda + aCols);
        var b = RandomOperands.Floats(random, (bRows - 1) * ldb + bCols);
        var c = RandomOperands.Floats(random, (m - 1) * ldc + n);
        var expected = (float[])c.Clone();
        SgemmReference.Multiply(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        Sgemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, path, threads);
        FloatAssert.Close(expected, c, $"{path} opA{(transposeA ? "ᵀ" : "")} opB{(transposeB ? "ᵀ" : "")} m={m} n={n} k={k} alpha={alpha} beta={beta}");
    }
}
