// Bit-serial GEMM and bit-plane packing against the integer reference on codes, for every pair of bit widths.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class BitSerialGemmTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    private static bool Emulated(KernelPath path) => !KernelDispatch.IsHardwareAccelerated(path);

    [Fact]
    public void QuantizersMatchReferenceIncludingEdges()
    {
        var random = new Random(17);
        var values = new List<float> { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -2f, -1f, -0.5f, -0f, 0f, 0.5f, 1f, 3f };
        for (int bits = 1; bits <= 8; bits++)
            for (int q = 0; q <= 2 * ((1 << bits) - 1); q++)
            {
                // Midpoints between levels, where round-half-to-even decides.
                values.Add(q / (2f * ((1 << bits) - 1)));
                values.Add(2f * q / (2f * ((1 << bits) - 1)) - 1f);
            }
        for (int i = 0; i < 2000; i++)
            values.Add(random.NextSingle() * 3f - 1.5f);
        foreach (float x in values)
            for (int bits = 1; bits <= 8; bits++)
            {
                Assert.Equal(BitSerialGemmReference.QuantizeActivation(x, bits), BitPlanes.QuantizeActivation(x, bits));
                Assert.Equal(BitSerialGemmReference.QuantizeWeight(x, bits), BitPlanes.QuantizeWeight(x, bits));
            }
        Assert.Equal(-1, BitPlanes.WeightLevel(0, 1));
        Assert.Equal(1, BitPlanes.WeightLevel(1, 1));
        Assert.Equal(-255, BitPlanes.WeightLevel(0, 8));
        Assert.Equal(255, BitPlanes.WeightLevel(255, 8));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PackedPlanesHoldTheCodeBits(KernelPath path)
    {
        var random = new Random(23);
        foreach (int k in new[] { 1, 7, 63, 64, 65, 130, 200 })
            for (int bits = 2; bits <= 8; bits++)
            {
                int rows = 3, words = BitPlanes.WordsFor(k), lda = BitPlanes.RowWords(k, bits) + 1;
                var x = Floats(random, rows * k);
                var codes = BitSerialGemmReference.Quantize(x, bits, BitSerialGemmReference.QuantizeActivation);
                var fromFloats = Garbage(random, rows * lda);
                var fromCodes = Garbage(random, rows * lda);
                BitPlanes.PackActivations(x, rows, k, bits, fromFloats, lda, path);
                BitPlanes.PackActivationCodes(codes, rows, k, bits, fromCodes, lda, path);
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < bits; i++)
                        for (int w = 0; w < words; w++)
                        {
                            ulong expected = 0;
                            for (int c = w * 64; c < Math.Min(k, w * 64 + 64); c++)
                                expected |= (ulong)((codes[r * k + c] >> i) & 1) << (c - w * 64);
                            Assert.Equal(expected, fromFloats[r * lda + i * words + w]);
                            Assert.Equal(expected, fromCodes[r * lda + i * words + w]);
                        }

                var weights = Floats(random, 5 * k);
                var b = BitSerialPackedB.Pack(weights, 5, k, bits);
                var weightCodes = BitSerialGemmReference.Quantize(weights, bits, BitSerialGemmReference.QuantizeWeight);
                for (int col = 0; col < 5; col++)
                    for (int c = 0; c < k; c++)
                        for (int j = 0; j < bits; j++)
                            Assert.Equal((ulong)((weightCodes[col * k + c] >> j) & 1), (b.PlaneWord(col, j, c / 64) >> (c % 64)) & 1);
            }
    }

    [Fact]
    public unsafe void PackedPanelsStartOnACacheLine()
    {
        for (int n = 1; n <= 40; n += 13)
            for (int k = 1; k <= 200; k += 37)
            {
                var b = BitSerialPackedB.PackCodes(new byte[n * k], n, k, 3);
                fixed (ulong* first = &b.Data[b.Start])
                    Assert.Equal(0, (long)first % 64);
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForEveryPairOfBitWidths(KernelPath path)
    {
        var random = new Random(31);
        int[] ks = Emulated(path) ? [1, 64, 100, 520] : [1, 63, 64, 65, 129, 300, 520, 1024];
        for (int ka = 2; ka <= 8; ka++)
            for (int kw = 1; kw <= 8; kw++)
                foreach (int k in ks)
                    CheckInt32(random, 1 + random.Next(5), 1 + random.Next(35), k, ka, kw, path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForEveryKFrom1To300(KernelPath path)
    {
        var random = new Random(1234);
        for (int k = 1; k <= 300; k += Emulated(path) ? 7 : 1)
            CheckInt32(random, 1 + random.Next(6), 1 + random.Next(40), k, 2 + random.Next(7), 1 + random.Next(8), path, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceAroundLargeK(KernelPath path)
    {
        var random = new Random(99);
        foreach (int k in new[] { 511, 512, 513, 1023, 1024, 1025, 2304 })
            CheckInt32(random, 3, Emulated(path) ? 9 : 19, k, 2 + random.Next(7), 1 + random.Next(8), path, threads: 2);
        CheckInt32(random, 2, 17, 4000, 8, 8, path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForMAndNFrom1To70(KernelPath path)
    {
        var random = new Random(7);
        int step = Emulated(path) ? 9 : 4;
        for (int m = 1; m <= 70; m += step)
            for (int n = 1; n <= 70; n += step + 1)
                CheckInt32(random, m, n, 1 + random.Next(Emulated(path) ? 100 : 200), 2 + random.Next(7), 1 + random.Next(8), path, threads: 2);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LargestCodesEverywhereGiveTheLargestDot(KernelPath path)
    {
        // All planes all ones: every carry-save counter is full, so every carry path of the adder tree is taken.
        foreach (var (ka, kw) in new[] { (2, 1), (3, 3), (8, 8), (5, 7) })
            for (int k = 1; k <= 600; k += Emulated(path) ? 13 : 1)
            {
                int m = 2, n = 17, lda = BitPlanes.RowWords(k, ka);
                var a = new ulong[m * lda];
                BitPlanes.PackActivationCodes(Enumerable.Repeat((byte)((1 << ka) - 1), m * k).ToArray(), m, k, ka, a);
                var b = BitSerialPackedB.PackCodes(Enumerable.Repeat((byte)((1 << kw) - 1), n * k).ToArray(), n, k, kw);
                var c = new int[m * n];
                BitSerialGemm.Multiply(a, m, lda, ka, b, XnorOutput.Int32(c, n), path, threads: 1);
                Assert.All(c, d => Assert.Equal(k * ((1 << ka) - 1) * ((1 << kw) - 1), d));
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ScaledOutputEqualsFloatDotOfDequantizedValues(KernelPath path)
    {
        var random = new Random(5);
        foreach (var (ka, kw, k) in new[] { (2, 1, 37), (2, 2, 64), (3, 5, 129), (4, 4, 300), (8, 8, 577), (5, 2, 1000), (8, 1, 65) })
        {
            int m = 4, n = 21;
            var x = Floats(random, m * k);
            var w = Floats(random, n * k);
            int lda = BitPlanes.RowWords(k, ka);
            var a = new ulong[m * lda];
            BitPlanes.PackActivations(x, m, k, ka, a, path: path);
            var b = BitSerialPackedB.Pack(w, n, k, kw);
            float levelsA = (1 << ka) - 1, levelsW = (1 << kw) - 1;
            var scale = Enumerable.Repeat(1f / (levelsA * levelsW), n).ToArray();
            var c = new float[m * n];
            BitSerialGemm.Multiply(a, m, lda, ka, b, XnorOutput.ScaleBias(c, n, scale, new float[n]), path);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double dot = 0, magnitude = 0;
                    for (int t = 0; t < k; t++)
                    {
                        double av = BitSerialGemmReference.QuantizeActivation(x[i * k + t], ka) / (double)levelsA;
                        double wv = (2 * BitSerialGemmReference.QuantizeWeight(w[j * k + t], kw) - levelsW) / (double)levelsW;
                        dot += av * wv;
                        magnitude += Math.Abs(av * wv);
                    }
                    Assert.True(Math.Abs(c[i * n + j] - dot) <= 1e-5 * Math.Max(1, magnitude),
                        $"{ka}x{kw} bits, k={k}: C[{i},{j}] = {c[i * n + j]}, float dot {dot}");
                }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ScaleBiasAndThresholdOutputsMatchReference(KernelPath path)
    {
        var random = new Random(11);
        foreach (var (m, n, k, ka, kw) in new[] { (1, 1, 1, 2, 1), (7, 16, 64, 3, 2), (13, 33, 200, 4, 4), (9, 70, 576, 8, 3), (3, 130, 65, 2, 8) })
        {
            var (a, lda, b, dots) = Problem(random, m, n, k, ka, kw);
            var scale = Floats(random, n);
            var bias = Floats(random, n);
            var floats = new float[m * n];
            BitSerialGemm.Multiply(a, m, lda, ka, b, XnorOutput.ScaleBias(floats, n, scale, bias), path, threads: 2);
            Assert.Equal(XnorGemmReference.ScaleBias(dots, m, n, scale, bias), floats);

            var thresholds = new int[n];
            int bound = k * ((1 << ka) - 1) * ((1 << kw) - 1) / 4 + 1;
            for (int j = 0; j < n; j++)
                thresholds[j] = random.Next(-bound, bound);
            int outWords = (n + 63) / 64;
            var bits = new ulong[m * outWords];
            Array.Fill(bits, ulong.MaxValue);
            BitSerialGemm.Multiply(a, m, lda, ka, b, XnorOutput.Threshold(bits, outWords, thresholds), path, threads: 2);
            Assert.Equal(XnorGemmReference.Threshold(dots, m, n, thresholds), bits);
        }
    }

    [Fact]
    public void ZeroCodesAreZeroPadding()
    {
        var random = new Random(2);
        int m = 3, n = 10, k = 150, ka = 4, kw = 3;
        var codes = new byte[m * k];
        for (int i = 0; i < m; i++)
            for (int t = 0; t < 100; t++)
                codes[i * k + t] = (byte)random.Next(16);
        var weights = new byte[n * k];
        for (int i = 0; i < weights.Length; i++)
            weights[i] = (byte)random.Next(8);
        int lda = BitPlanes.RowWords(k, ka);
        var a = new ulong[m * lda];
        BitPlanes.PackActivationCodes(codes, m, k, ka, a);
        var c = new int[m * n];
        BitSerialGemm.Multiply(a, m, lda, ka, BitSerialPackedB.PackCodes(weights, n, k, kw), XnorOutput.Int32(c, n));

        var shortCodes = new byte[m * 100];
        var shortWeights = new byte[n * 100];
        for (int i = 0; i < m; i++)
            Array.Copy(codes, i * k, shortCodes, i * 100, 100);
        for (int j = 0; j < n; j++)
            Array.Copy(weights, j * k, shortWeights, j * 100, 100);
        Assert.Equal(BitSerialGemmReference.Multiply(shortCodes, m, shortWeights, n, 100, kw), c);
    }

    [Fact]
    public void RejectsBadArgumentsNamingThem()
    {
        var b = BitSerialPackedB.PackCodes(new byte[4 * 64], 4, 64, 2);
        var a = new ulong[2 * 2];
        Assert.Contains("output", Assert.Throws<ArgumentException>(() =>
            BitSerialGemm.Multiply(a, 2, 2, 2, b, XnorOutput.Int32(new int[5], 4))).Message);
        Assert.Equal("lda", Assert.Throws<ArgumentOutOfRangeException>(() =>
            BitSerialGemm.Multiply(a, 2, 1, 2, b, XnorOutput.Int32(new int[8], 4))).ParamName);
        Assert.Equal("activationBits", Assert.Throws<ArgumentOutOfRangeException>(() =>
            BitSerialGemm.Multiply(a, 2, 2, 1, b, XnorOutput.Int32(new int[8], 4))).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() =>
            BitPlanes.PackActivationCodes(new byte[] { 1, 4 }, 1, 2, 2, new ulong[2])).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() =>
            BitSerialPackedB.PackCodes(new byte[] { 0, 2 }, 1, 2, 1)).ParamName);
        var huge = BitSerialPackedB.PackCodes(new byte[40000], 1, 40000, 8);
        Assert.Equal("b", Assert.Throws<ArgumentOutOfRangeException>(() =>
            BitSerialGemm.Multiply(new ulong[8 * 625], 1, 8 * 625, 8, huge, XnorOutput.Int32(new int[1], 1))).ParamName);
    }

    [Fact]
    public void SteadyStateCallAllocatesNothing()
    {
        var random = new Random(1);
        var (a, lda, b, _) = Problem(random, 64, 64, 640, 4, 2);
        var c = new int[64 * 64];
        var floats = new float[64 * 64];
        var scale = new float[64];
        BitSerialGemm.Multiply(a, 64, lda, 4, b, XnorOutput.Int32(c, 64), threads: 2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            BitSerialGemm.Multiply(a, 64, lda, 4, b, XnorOutput.Int32(c, 64), threads: 2);
            BitSerialGemm.Multiply(a, 64, lda, 4, b, XnorOutput.ScaleBias(floats, 64, scale, scale), threads: 2);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Random codes for A (row stride with a spare word, garbage between rows) and B, and the reference D.</summary>
    private static (ulong[] A, int Lda, BitSerialPackedB B, int[] Dots) Problem(Random random, int m, int n, int k, int ka, int kw)
    {
        var aCodes = Codes(random, m * k, ka);
        var wCodes = Codes(random, n * k, kw);
        int lda = BitPlanes.RowWords(k, ka) + random.Next(2);
        var a = Garbage(random, m * lda);
        BitPlanes.PackActivationCodes(aCodes, m, k, ka, a, lda);
        return (a, lda, BitSerialPackedB.PackCodes(wCodes, n, k, kw), BitSerialGemmReference.Multiply(aCodes, m, wCodes, n, k, kw));
    }

    private static void CheckInt32(Random random, int m, int n, int k, int ka, int kw, KernelPath path, int threads)
    {
        var (a, lda, b, expected) = Problem(random, m, n, k, ka, kw);
        int ldc = n + random.Next(3);
        var c = new int[m * ldc];
        BitSerialGemm.Multiply(a, m, lda, ka, b, XnorOutput.Int32(c, ldc), path, threads);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.True(expected[i * n + j] == c[i * ldc + j],
                    $"path {path}, {ka}x{kw} bits, m={m} n={n} k={k}: D[{i},{j}] = {c[i * ldc + j]}, expected {expected[i * n + j]}");
    }

    /// <summary>Codes with extra weight on 0 and on the largest code (the all-zero and all-one planes).</summary>
    private static byte[] Codes(Random random, int count, int bits)
    {
        var codes = new byte[count];
        int max = (1 << bits) - 1;
        for (int i = 0; i < count; i++)
        {
            int roll = random.Next(10);
            codes[i] = (byte)(roll == 0 ? 0 : roll == 1 ? max : random.Next(max + 1));
        }
        return codes;
    }

    /// <summary>Floats spread past both clip ranges, with some exact zeros.</summary>
    private static float[] Floats(Random random, int count)
    {
        var x = RandomOperands.Floats(random, count);
        for (int i = 0; i < count; i++)
            x[i] *= 1.25f;
        return x;
    }

    private static ulong[] Garbage(Random random, int count)
    {
        var words = new ulong[count];
        for (int i = 0; i < count; i++)
            words[i] = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
        return words;
    }
}
