// The k-bit quantizers of every width 2..31: hand-computed codes and values (9, 12, 16, 24, 31 bits), ties (half to
// even), NaN, infinities and clipping, agreement with BitPlanes up to 8 bits, and exact codes against a BigInteger oracle.
using System.Numerics;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Kernels.Tests;

public class UniformQuantizerTests
{
    /// <summary>
    /// Hand-computed with exact fractions. x = 0.5 is the only float that ties for activations (0.5 L = 2^(k-1) - 0.5),
    /// w = 0 the only one for weights; the even code 2^(k-1) wins both.
    /// </summary>
    [Theory]
    [InlineData(0.5f, 9, 256u)]
    [InlineData(0.25f, 9, 128u)]
    [InlineData(0.3f, 12, 1229u)]
    [InlineData(0.3f, 16, 19661u)]
    [InlineData(0.7f, 24, 11744050u)]
    [InlineData(0.1f, 31, 214748368u)]
    [InlineData(0.5f, 31, 1073741824u)]
    [InlineData(0.50000006f, 31, 1073741951u)]
    public void ActivationCodesAreTheExactRoundHalfToEven(float x, int bits, uint code)
    {
        Assert.Equal(code, UniformQuantizer.ActivationCode(x, bits));
    }

    [Theory]
    [InlineData(0f, 9, 256u)]
    [InlineData(-0f, 16, 32768u)]
    [InlineData(-0.5f, 9, 128u)]
    [InlineData(0.5f, 9, 383u)]
    [InlineData(-0.3f, 16, 22937u)]
    [InlineData(1e-12f, 16, 32768u)]
    [InlineData(-1e-12f, 16, 32767u)]
    [InlineData(0.7f, 24, 14260633u)]
    [InlineData(-0.3f, 31, 751619264u)]
    [InlineData(float.Epsilon, 31, 1073741824u)]
    [InlineData(-float.Epsilon, 31, 1073741823u)]
    public void WeightCodesAreTheExactRoundHalfToEven(float w, int bits, uint code)
    {
        Assert.Equal(code, UniformQuantizer.WeightCode(w, bits));
    }

    /// <summary>
    /// Where float32 loses the code: 0.3f · 65535 is 19660.5008 exactly but 19660.5 in float32 (a false tie that
    /// rounds to 19660); (0.5 + 2^-24) (2^31 - 1) is just below a tie but rounds onto it in float64 (giving 1073741952).
    /// </summary>
    [Fact]
    public void CodesAreExactWhereFloat32AndFloat64WouldRoundWrongly()
    {
        Assert.Equal(19660f, MathF.Round(0.3f * 65535f));
        Assert.Equal(19661u, UniformQuantizer.ActivationCode(0.3f, 16));
        float x = 0.50000006f;
        Assert.Equal(1073741952d, Math.Round(x * (double)int.MaxValue));
        Assert.Equal(1073741951u, UniformQuantizer.ActivationCode(x, 31));
        Assert.Equal(32768, MathF.Round((-1e-12f + 1f) * 0.5f * 65535f));
        Assert.Equal(32767u, UniformQuantizer.WeightCode(-1e-12f, 16));
    }

    [Fact]
    public void ValuesAreTheCodesOverTheLevelsRoundedToFloat32()
    {
        Assert.Equal(0.50097847f, UniformQuantizer.ActivationValue(0.5f, 9));
        Assert.Equal(0.30012211f, UniformQuantizer.ActivationValue(0.3f, 12));
        Assert.Equal(0.30000764f, UniformQuantizer.ActivationValue(0.3f, 16));
        Assert.Equal(0.0019569471f, UniformQuantizer.WeightValue(0f, 9));
        Assert.Equal(-0.49902153f, UniformQuantizer.WeightValue(-0.5f, 9));
        Assert.Equal(-0.30000764f, UniformQuantizer.WeightValue(-0.3f, 16));
        // From 24 bits on, float32 cannot hold every level: values land on (or next to) the input itself.
        Assert.Equal(0.7f, UniformQuantizer.ActivationValue(0.7f, 24));
        Assert.Equal(0.70000005f, UniformQuantizer.WeightValue(0.7f, 24));
        Assert.Equal(0.1f, UniformQuantizer.ActivationValue(0.1f, 31));
        Assert.Equal(-0.3f, UniformQuantizer.WeightValue(-0.3f, 31));
        Assert.Equal(0.5f, UniformQuantizer.ActivationValue(0.5f, 31));
        var random = new Random(3);
        for (int i = 0; i < 1000; i++)
        {
            float x = random.NextSingle();
            float halfStep = MathF.BitIncrement(x) - x;
            Assert.True(Math.Abs(UniformQuantizer.ActivationValue(x, 31) - (double)x) <= halfStep / 2 + 0.5 / int.MaxValue, $"{x:R}");
        }
    }

    [Theory]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(31)]
    public void NaNInfinityAndTheClipBounds(int bits)
    {
        uint levels = UniformQuantizer.Levels(bits);
        Assert.Equal((1u << bits) - 1, levels);
        Assert.Equal(0u, UniformQuantizer.ActivationCode(float.NaN, bits));
        Assert.Equal(0u, UniformQuantizer.ActivationCode(float.NegativeInfinity, bits));
        Assert.Equal(0u, UniformQuantizer.ActivationCode(-0.25f, bits));
        Assert.Equal(0u, UniformQuantizer.ActivationCode(-0f, bits));
        Assert.Equal(levels, UniformQuantizer.ActivationCode(1f, bits));
        Assert.Equal(levels, UniformQuantizer.ActivationCode(7f, bits));
        Assert.Equal(levels, UniformQuantizer.ActivationCode(float.PositiveInfinity, bits));
        Assert.Equal(0u, UniformQuantizer.WeightCode(float.NaN, bits));
        Assert.Equal(0u, UniformQuantizer.WeightCode(float.NegativeInfinity, bits));
        Assert.Equal(0u, UniformQuantizer.WeightCode(-1f, bits));
        Assert.Equal(0u, UniformQuantizer.WeightCode(-2.5f, bits));
        Assert.Equal(levels, UniformQuantizer.WeightCode(1f, bits));
        Assert.Equal(levels, UniformQuantizer.WeightCode(float.PositiveInfinity, bits));
        Assert.Equal(0f, UniformQuantizer.ActivationValue(float.NaN, bits));
        Assert.Equal(1f, UniformQuantizer.ActivationValue(3f, bits));
        Assert.Equal(-1f, UniformQuantizer.WeightValue(float.NaN, bits));
        Assert.Equal(1f, UniformQuantizer.WeightValue(3f, bits));
        Assert.Equal(-1f, UniformQuantizer.WeightValue(-3f, bits));
        Assert.Equal(1u << (bits - 1), UniformQuantizer.ActivationCode(0.5f, bits));
        Assert.Equal(1u << (bits - 1), UniformQuantizer.WeightCode(0f, bits));
    }

    [Fact]
    public void UpToEightBitsTheyAreTheBitPlanesQuantizers()
    {
        var random = new Random(5);
        for (int bits = 2; bits <= 8; bits++)
        {
            float levels = (1 << bits) - 1;
            for (int i = 0; i < 500; i++)
            {
                float v = (random.NextSingle() * 2f - 1f) * 1.3f;
                Assert.Equal(BitPlanes.QuantizeActivation(v, bits), UniformQuantizer.ActivationCode(v, bits));
                Assert.Equal(BitPlanes.QuantizeWeight(v, bits), UniformQuantizer.WeightCode(v, bits));
                Assert.Equal(BitPlanes.QuantizeActivation(v, bits) / levels, UniformQuantizer.ActivationValue(v, bits));
                Assert.Equal(BitPlanes.WeightLevel(BitPlanes.QuantizeWeight(v, bits), bits) / levels, UniformQuantizer.WeightValue(v, bits));
            }
        }
    }

    /// <summary>Random floats of every magnitude (down to subnormals) against the formula evaluated in BigInteger fractions.</summary>
    [Fact]
    public void CodesEqualTheBigIntegerOracleAtEveryWidth()
    {
        var random = new Random(11);
        for (int bits = 9; bits <= 31; bits++)
            for (int i = 0; i < 400; i++)
            {
                float magnitude = random.Next(4) switch
                {
                    0 => random.NextSingle(),
                    1 => MathF.ScaleB(random.NextSingle(), -random.Next(1, 40)),
                    2 => MathF.ScaleB(random.NextSingle(), -random.Next(40, 150)),
                    _ => random.NextSingle() * 2f,
                };
                float v = random.Next(2) == 0 ? magnitude : -magnitude;
                Assert.True(OracleActivation(v, bits) == UniformQuantizer.ActivationCode(v, bits), $"activation {v:R} at {bits} bits");
                Assert.True(OracleWeight(v, bits) == UniformQuantizer.WeightCode(v, bits), $"weight {v:R} at {bits} bits");
            }
    }

    /// <summary><c>round_half_even(clip(x, 0, 1) L)</c> with x as the exact fraction it is.</summary>
    private static BigInteger OracleActivation(float x, int bits)
    {
        var (numerator, denominator) = Fraction(Math.Clamp(x, 0f, 1f));
        return RoundHalfEven(numerator * ((BigInteger.One << bits) - 1), denominator);
    }

    /// <summary><c>round_half_even((clip(w, -1, 1) + 1) / 2 L)</c> with w as the exact fraction it is.</summary>
    private static BigInteger OracleWeight(float w, int bits)
    {
        var (numerator, denominator) = Fraction(Math.Clamp(w, -1f, 1f));
        return RoundHalfEven((numerator + denominator) * ((BigInteger.One << bits) - 1), 2 * denominator);
    }

    private static (BigInteger Numerator, BigInteger Denominator) Fraction(float v)
    {
        // Every float is an integer times 2^-149.
        var scaled = new BigInteger(Math.ScaleB((double)v, 149));
        return (scaled, BigInteger.One << 149);
    }

    private static BigInteger RoundHalfEven(BigInteger numerator, BigInteger denominator)
    {
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        int compare = (2 * remainder).CompareTo(denominator);
        return compare > 0 || (compare == 0 && !quotient.IsEven) ? quotient + 1 : quotient;
    }
}
