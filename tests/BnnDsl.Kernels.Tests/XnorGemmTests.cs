// XNOR GEMM against the bit-by-bit reference and against float dot products of ±1 values.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class XnorGemmTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForEveryKFrom1To300(KernelPath path)
    {
        var random = new Random(1234);
        for (int k = 1; k <= 300; k += path == KernelPath.Avx512 && !KernelDispatch.IsHardwareAccelerated(path) ? 7 : 1)
        {
            int m = 1 + random.Next(9), n = 1 + random.Next(40);
            CheckInt32(random, m, n, k, path, threads: 1);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceAroundLargeK(KernelPath path)
    {
        var random = new Random(99);
        foreach (int k in new[] { 511, 512, 513, 576, 1023, 1024, 1025, 4608 })
            CheckInt32(random, 5, 19, k, path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForEveryWordCountAcrossTheShortAndLongRowKernels(KernelPath path)
    {
        var random = new Random(21);
        for (int words = 1; words <= 40; words++)
            CheckInt32(random, 3, 17, words * 64 - random.Next(64), path, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceWhenByteCountersMustBeFlushed(KernelPath path)
    {
        // More than 31 groups of 8 words: the eights' byte counters are summed mid-row.
        var random = new Random(22);
        CheckInt32(random, 2, 17, 270 * 64 - 5, path, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForMAndNFrom1To70(KernelPath path)
    {
        var random = new Random(7);
        for (int m = 1; m <= 70; m += 3)
            for (int n = 1; n <= 70; n += 5)
                CheckInt32(random, m, n, 1 + random.Next(200), path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DotEqualsFloatDotOfSigns(KernelPath path)
    {
        var random = new Random(5);
        foreach (int k in new[] { 1, 3, 37, 64, 100, 129, 577 })
        {
            int m = 6, n = 21;
            var af = RandomOperands.Floats(random, m * k);
            var bf = RandomOperands.Floats(random, n * k);
            int words = SignPacking.WordsFor(k);
            var a = SignPackingReference.Pack(af, m, k);
            var b = XnorPackedB.Pack(SignPackingReference.Pack(bf, n, k), n, words, k);
            var c = new int[m * n];
            XnorGemm.Multiply(a, m, words, b, XnorOutput.Int32(c, n), path: path);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    float dot = 0;
                    for (int t = 0; t < k; t++)
                        dot += (af[i * k + t] >= 0 ? 1f : -1f) * (bf[j * k + t] >= 0 ? 1f : -1f);
                    Assert.Equal((int)dot, c[i * n + j]);
                }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ScaleBiasAndThresholdOutputsMatchReference(KernelPath path)
    {
        var random = new Random(11);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 16, 64), (13, 33, 200), (40, 70, 576), (3, 130, 65) })
        {
            int words = (k + 63) / 64;
            var a = RandomOperands.PackedRows(random, m, k);
            var bRows = RandomOperands.PackedRows(random, n, k);
            var b = XnorPackedB.Pack(bRows, n, words, k);
            var dots = XnorGemmReference.Multiply(a, m, words, bRows, n, words, words, k);
            var scale = RandomOperands.Floats(random, n);
            var bias = RandomOperands.Floats(random, n);
            var floats = new float[m * n];
            XnorGemm.Multiply(a, m, words, b, XnorOutput.ScaleBias(floats, n, scale, bias), path: path, threads: 2);
            Assert.Equal(XnorGemmReference.ScaleBias(dots, m, n, scale, bias), floats);

            var thresholds = new int[n];
            for (int j = 0; j < n; j++)
                thresholds[j] = random.Next(-k, k + 1);
            int outWords = (n + 63) / 64;
            var bits = new ulong[m * outWords];
            Array.Fill(bits, ulong.MaxValue);
            XnorGemm.Multiply(a, m, words, b, XnorOutput.Threshold(bits, outWords, thresholds), path: path, threads: 2);
            Assert.Equal(XnorGemmReference.Threshold(dots, m, n, thresholds), bits);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void RowCorrectionIsAddedBeforeTheTransform(KernelPath path)
    {
        var random = new Random(3);
        int m = 9, n = 20, k = 150, words = 3;
        var a = RandomOperands.PackedRows(random, m, k);
        var bRows = RandomOperands.PackedRows(random, n, k);
        var dots = XnorGemmReference.Multiply(a, m, words, bRows, n, words, words, k);
        var rowClass = new int[m];
        for (int i = 0; i < m; i++)
            rowClass[i] = random.Next(-1, 3);
        var table = new int[3 * n];
        for (int i = 0; i < table.Length; i++)
            table[i] = random.Next(-50, 50);
        var c = new int[m * n];
        XnorGemm.Multiply(a, m, words, XnorPackedB.Pack(bRows, n, words, k), XnorOutput.Int32(c, n),
            new XnorRowCorrection(rowClass, table), path);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(dots[i * n + j] + (rowClass[i] >= 0 ? table[rowClass[i] * n + j] : 0), c[i * n + j]);
    }

    [Fact]
    public void RejectsAShortOutputNamingIt()
    {
        var b = XnorPackedB.Pack(new ulong[4], 4, 1, 64);
        var error = Assert.Throws<ArgumentException>(() =>
            XnorGemm.Multiply(new ulong[2], 2, 1, b, XnorOutput.Int32(new int[5], 4)));
        Assert.Contains("output", error.Message);
    }

    [Fact]
    public unsafe void PanelsStartOnA64ByteBoundary()
    {
        for (int n = 1; n < 40; n += 7)
        {
            var b = XnorPackedB.Pack(new ulong[n * 3], n, 3, 150);
            fixed (ulong* first = &b.Data[b.Start])
                Assert.Equal(0, (long)first % 64);
        }
    }

    [Fact]
    public void SteadyStateCallAllocatesNothing()
    {
        var random = new Random(1);
        var a = RandomOperands.PackedRows(random, 64, 640);
        var b = XnorPackedB.Pack(RandomOperands.PackedRows(random, 64, 640), 64, 10, 640);
        var c = new int[64 * 64];
        XnorGemm.Multiply(a, 64, 10, b, XnorOutput.Int32(c, 64), threads: 2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
            XnorGemm.Multiply(a, 64, 10, b, XnorOutput.Int32(c, 64), threads: 2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void CheckInt32(Random random, int m, int n, int k, KernelPath path, int threads)
    {
        int words = (k + 63) / 64;
        int lda = words + random.Next(2);
        var aRows = RandomOperands.PackedRows(random, m, k);
        var a = new ulong[m * lda];
        for (int i = 0; i < m; i++)
            Array.Copy(aRows, i * words, a, i * lda, words);
        var bRows = RandomOperands.PackedRows(random, n, k);
        var expected = XnorGemmReference.Multiply(aRows, m, words, bRows, n, words, words, k);
        int ldc = n + random.Next(3);
        var c = new int[m * ldc];
        XnorGemm.Multiply(a, m, lda, XnorPackedB.Pack(bRows, n, words, k), XnorOutput.Int32(c, ldc), path: path, threads: threads);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.True(expected[i * n + j] == c[i * ldc + j],
                    $"path {path}, m={m} n={n} k={k}: C[{i},{j}] = {c[i * ldc + j]}, expected {expected[i * n + j]}");
    }
}
