// Sign packing against the bit-at-a-time reference: every channel count, special values, argument errors.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Tests;

public class SignPackingTests
{
    public static TheoryData<KernelPath> Paths => TestData.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesReferenceForEveryChannelCount(KernelPath path)
    {
        var random = new Random(17);
        var channelCounts = Enumerable.Range(0, 200).Concat([255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025]);
        foreach (int channels in channelCounts)
        {
            int rows = 1 + random.Next(4);
            var x = RandomOperands.Floats(random, rows * channels, zeroShare: 0.1f);
            var packed = new ulong[rows * SignPacking.WordsFor(channels)];
            Array.Fill(packed, 0xDEADBEEFUL);
            SignPacking.Pack(x, rows, channels, packed, path);
            Assert.Equal(SignPackingReference.Pack(x, rows, channels), packed);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ZeroAndNegativeZeroArePlusOneAndNaNIsMinusOne(KernelPath path)
    {
        var x = new float[70];
        x[0] = 0f;
        x[1] = -0f;
        x[2] = float.NaN;
        x[3] = float.NegativeInfinity;
        x[4] = float.PositiveInfinity;
        x[5] = -float.Epsilon;
        x[66] = float.NaN;
        var packed = new ulong[2];
        SignPacking.Pack(x, 1, 70, packed, path);
        Assert.Equal((1UL << 2) | (1UL << 3) | (1UL << 5), packed[0]);
        Assert.Equal(1UL << 2, packed[1]);
    }

    [Fact]
    public void TailBitsOfTheLastWordAreZero()
    {
        var x = Enumerable.Repeat(-1f, 100).ToArray();
        var packed = new ulong[2];
        SignPacking.Pack(x, 1, 100, packed);
        Assert.Equal(ulong.MaxValue, packed[0]);
        Assert.Equal((1UL << 36) - 1, packed[1]);
    }

    [Fact]
    public void RejectsAShortDestinationNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => SignPacking.Pack(new float[130], 2, 65, new ulong[3]));
        Assert.Contains("packed", error.Message);
        Assert.Contains("4", error.Message);
    }
}
