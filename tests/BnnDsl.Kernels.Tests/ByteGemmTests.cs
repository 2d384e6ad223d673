// Byte GEMM against the integer reference and against the bit-serial GEMM on the same codes, for every pair of
// widths it takes, with tails in M, N and K and the int16 accumulators at their bound.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class ByteGemmTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    [Fact]
    public void Int16GroupsKeepEveryPartialSumInRange()
    {
        for (int ka = 2; ka <= 4; ka++)
            for (int kw = 1; kw <= 4; kw++)
            {
                int pair = 2 * ((1 << ka) - 1) * ((1 << kw) - 1);
                int groups = ByteGemm.Int16Groups(ka, kw);
                Assert.True(groups * pair <= short.MaxValue);
                Assert.True((groups + 1) * pair > short.MaxValue);
            }
        Assert.Equal(72, ByteGemm.Int16Groups(4, 4));
        Assert.Equal(1820, ByteGemm.Int16Groups(2, 2));
        Assert.True(ByteGemm.Supports(2, 1));
        Assert.True(ByteGemm.Supports(4, 4));
        Assert.False(ByteGemm.Supports(5, 2));
        Assert.False(ByteGemm.Supports(2, 5));
        Assert.False(ByteGemm.Supports(1, 2));
    }

    [Fact]
    public unsafe void PackedWeightsHoldTheLevelsInAlignedPanels()
    {
        var random = new Random(5);
        foreach (int k in new[] { 1, 3, 4, 5, 63, 64, 65, 130 })
            for (int bits = 1; bits <= 4; bits++)
            {
                int n = 1 + random.Next(40);
                var weights = RandomOperands.UniformFloats(random, n * k, 1.2f);
                var codes = BitSerialGemmReference.Quantize(weights, bits, BitSerialGemmReference.QuantizeWeight);
                var levels = ByteGemmReference.Levels(codes, bits);
                var fromFloats = BytePackedB.Pack(weights, n, k, bits);
                var fromCodes = BytePackedB.PackCodes(codes, n, k, bits);
                var fromPlanes = BytePackedB.FromBitSerial(BitSerialPackedB.PackCodes(codes, n, k, bits));
                var repacked = BytePackedB.PackCodes(new byte[n * k], n, k, bits);
                repacked.Repack(weights);
                foreach (var b in new[] { fromFloats, fromCodes, fromPlanes, repacked })
                {
                    Assert.Equal((n + 15) / 16, b.Panels);
                    Assert.Equal((k + 3) / 4, b.Groups);
                    for (int col = 0; col < n; col++)
                        for (int c = 0; c < k; c++)
                            Assert.Equal(levels[col * k + c], b.Level(col, c));
                    fixed (ulong* first = &b.Data[b.Start])
                        Assert.Equal(0, (long)first % 64);
                }
            }
    }

    [Fact]
    public void BadArgumentsAreRejectedByName()
    {
        var b = BytePackedB.PackCodes(new byte[3 * 10], 3, 10, 2);
        var c = new int[2 * 3];
        Assert.Equal("bits", Assert.Throws<ArgumentOutOfRangeException>(() => BytePackedB.PackCodes(new byte[10], 1, 10, 5)).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => BytePackedB.PackCodes(new byte[] { 4 }, 1, 1, 2)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentOutOfRangeException>(
            () => BytePackedB.FromBitSerial(BitSerialPackedB.PackCodes(new byte[10], 1, 10, 5))).ParamName);
        Assert.Equal("activationBits", Assert.Throws<ArgumentOutOfRangeException>(
            () => ByteGemm.Multiply(new byte[20], 2, 10, 5, b, XnorOutput.Int32(c, 3))).ParamName);
        Assert.Equal("lda", Assert.Throws<ArgumentOutOfRangeException>(
            () => ByteGemm.Multiply(new byte[20], 2, 9, 2, b, XnorOutput.Int32(c, 3))).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(
            () => ByteGemm.Multiply(new byte[19], 2, 10, 2, b, XnorOutput.Int32(c, 3))).ParamName);
        var tooLarge = new byte[20];
        tooLarge[17] = 4;
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => ByteGemm.Multiply(tooLarge, 2, 10, 2, b, XnorOutput.Int32(c, 3))).ParamName);
        var tooLargeInVector = new byte[2 * 40];
        tooLargeInVector[45] = 16;
        var wide = BytePackedB.PackCodes(new byte[3 * 40], 3, 40, 2);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => ByteGemm.Multiply(tooLargeInVector, 2, 40, 4, wide, XnorOutput.Int32(c, 3))).ParamName);
        const int longK = 9_600_000;
        var tooLong = BytePackedB.PackCodes(new byte[longK], 1, longK, 4);
        Assert.Equal("b", Assert.Throws<ArgumentOutOfRangeException>(() => ByteGemm.Multiply(new byte[longK], 1, longK, 4, tooLong, XnorOutput.Int32(c, 1))).ParamName);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceAndBitSerialForEveryPairOfWidths(KernelPath path)
    {
        var random = new Random(31);
        for (int ka = 2; ka <= 4; ka++)
            for (int kw = 1; kw <= 4; kw++)
                foreach (int k in new[] { 1, 2, 3, 4, 5, 7, 31, 32, 33, 64, 65, 129, 300, 577 })
                    Check(random, 1 + random.Next(14), 1 + random.Next(40), k, ka, kw, path, threads: 2, bitSerial: true);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceForMAndNFrom1To40(KernelPath path)
    {
        var random = new Random(7);
        for (int m = 1; m <= 40; m += 3)
            for (int n = 1; n <= 40; n += 5)
                Check(random, m, n, 1 + random.Next(100), 2 + random.Next(3), 1 + random.Next(4), path, threads: 2, bitSerial: false);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Int32MatchesReferenceAcrossInt16Chunks(KernelPath path)
    {
        // 72 groups of 4 codes per chunk at 4 x 4 bits: K around 288, 576 and the ResNet-18 stage lengths.
        var random = new Random(99);
        foreach (int k in new[] { 287, 288, 289, 291, 292, 575, 576, 577, 1152, 2304, 4608 })
            Check(random, 7, 17, k, 4, 4, path, threads: 2, bitSerial: true);
        foreach (int k in new[] { 7279, 7280, 7281, 7284, 9000 })
            Check(random, 7, 17, k, 2, 2, path, threads: 2, bitSerial: false);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LargestCodesGiveTheLargestDotsOfBothSigns(KernelPath path)
    {
        // Every pair at its bound in every int16 lane: the accumulators come as close to saturating as the chunk lets them.
        foreach (var (ka, kw) in new[] { (2, 1), (2, 2), (3, 3), (4, 4), (4, 1), (2, 4) })
            foreach (int k in new[] { 1, 5, 287, 288, 289, 577, 4608, 7283 })
            {
                int m = 8, n = 18, amax = (1 << ka) - 1, wmax = (1 << kw) - 1;
                var a = Enumerable.Repeat((byte)amax, m * k).ToArray();
                var codes = new byte[n * k];
                for (int col = 0; col < n; col++)
                    codes.AsSpan(col * k, k).Fill(col % 2 == 0 ? (byte)wmax : (byte)0);
                var c = new int[m * n];
                ByteGemm.Multiply(a, m, k, ka, BytePackedB.PackCodes(codes, n, k, kw), XnorOutput.Int32(c, n), path, threads: 1);
                for (int i = 0; i < m * n; i++)
                    Assert.Equal((i % n % 2 == 0 ? 1 : -1) * k * amax * wmax, c[i]);
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ScaleBiasAndThresholdOutputsTransformTheDots(KernelPath path)
    {
        var random = new Random(41);
        foreach (var (m, n, k) in new[] { (5, 16, 40), (13, 37, 301), (6, 64, 576) })
        {
            int ka = 2 + random.Next(3), kw = 1 + random.Next(4);
            var a = RandomOperands.Codes(random, m * k, ka);
            var weightCodes = RandomOperands.Codes(random, n * k, kw);
            var expected = ByteGemmReference.Multiply(a, m, k, ByteGemmReference.Levels(weightCodes, kw), n, k);
            var b = BytePackedB.PackCodes(weightCodes, n, k, kw);
            var scale = RandomOperands.UniformFloats(random, n, 1.2f);
            var bias = RandomOperands.UniformFloats(random, n, 1.2f);
            var floats = new float[m * n];
            ByteGemm.Multiply(a, m, k, ka, b, XnorOutput.ScaleBias(floats, n, scale, bias), path);
            for (int i = 0; i < m * n; i++)
                Assert.Equal(scale[i % n] * expected[i] + bias[i % n], floats[i]);

            var thresholds = new int[n];
            for (int j = 0; j < n; j++)
                thresholds[j] = expected[random.Next(m) * n + j] + random.Next(3) - 1;
            int words = (n + 63) / 64;
            var bits = Enumerable.Repeat(ulong.MaxValue, m * words).ToArray();
            ByteGemm.Multiply(a, m, k, ka, b, XnorOutput.Threshold(bits, words, thresholds), path);
            for (int r = 0; r < m; r++)
                for (int j = 0; j < words * 64; j++)
                {
                    ulong expectedBit = j < n && expected[r * n + j] < thresholds[j] ? 1UL : 0UL;
                    Assert.Equal(expectedBit, (bits[r * words + j / 64] >> (j % 64)) & 1);
                }
        }
    }

    private static void Check(Random random, int m, int n, int k, int ka, int kw, KernelPath path, int threads, bool bitSerial)
    {
        int lda = k + random.Next(3);
        var a = RandomOperands.Codes(random, m * lda, ka);
        var weightCodes = RandomOperands.Codes(random, n * k, kw);
        var expected = ByteGemmReference.Multiply(a, m, lda, ByteGemmReference.Levels(weightCodes, kw), n, k);
        int ldc = n + 1;
        var c = Enumerable.Repeat(int.MinValue, m * ldc).ToArray();
        ByteGemm.Multiply(a.AsSpan(0, (m - 1) * lda + k), m, lda, ka, BytePackedB.PackCodes(weightCodes, n, k, kw), XnorOutput.Int32(c, ldc), path, threads);
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
                Assert.True(expected[r * n + j] == c[r * ldc + j], $"m={m} n={n} k={k} {ka}x{kw} bits: D[{r},{j}] = {c[r * ldc + j]}, expected {expected[r * n + j]}");
            Assert.Equal(int.MinValue, c[r * ldc + n]);
        }
        if (!bitSerial)
            return;
        int rowWords = BitPlanes.RowWords(k, ka);
        var planes = new ulong[m * rowWords];
        var packed = new byte[m * k];
        for (int r = 0; r < m; r++)
            a.AsSpan(r * lda, k).CopyTo(packed.AsSpan(r * k));
        BitPlanes.PackActivationCodes(packed, m, k, ka, planes);
        var serial = new int[m * n];
        BitSerialGemm.Multiply(planes, m, rowWords, ka, BitSerialPackedB.PackCodes(weightCodes, n, k, kw), XnorOutput.Int32(serial, n), path, threads);
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++)
                Assert.Equal(serial[r * n + j], c[r * ldc + j]);
    }
}
