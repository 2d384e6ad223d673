// The k-bit quantizers for every width 2..31: codes and float values of activations (DoReFa) and weights (uniform
// in [-1, 1]); 2..8 bits as BitPlanes packs them, 9..31 bits exactly (quantize-dequantize layers).
using System.Runtime.CompilerServices;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// k-bit quantizers, k in 2..31 (1 bit is sign(x), 32 bits float32, both outside this class). With
/// <c>L = 2^k - 1</c> levels: an activation has the code <c>q = round(clip(x, 0, 1) * L)</c> and the value
/// <c>q / L</c>; a weight has the code <c>q = round((clip(w, -1, 1) + 1) / 2 * L)</c> and the value
/// <c>(2q - L) / L</c>. <c>round</c> is round-half-to-even; NaN gives code 0, ±infinity clip to the bounds.
/// <para>
/// 2..8 bits: the formulas are evaluated in float32 exactly as <see cref="BitPlanes.QuantizeActivation"/> and
/// <see cref="BitPlanes.QuantizeWeight"/> do (the bit-serial packers), values <c>q / L</c> divided in float32.
/// </para>
/// <para>
/// 9..31 bits: float32 cannot carry the products (a float has 24 significant bits), so the code is computed exactly:
/// the float input is taken as the exact binary fraction it is, the formula is evaluated in integers (Int64 and
/// UInt128) and rounded once, half to even. The code is thus the true <c>round</c> of the real-number formula at
/// every width: for example w = 0 always sits on a tie and gives <c>q = 2^(k-1)</c>, value <c>+1 / L</c>. The value is
/// <c>q / L</c> (weights <c>(2q - L) / L</c>) computed in float64 and rounded to the nearest float32. From 24 bits up,
/// float32 cannot hold all <c>2^k</c> levels: neighbouring codes can round to the same float value, and the
/// quantizer is, in float32, close to the identity on the clip range (at 31 bits the value differs from
/// <c>clip(x)</c> by at most half a float32 step plus <c>1 / (2L)</c>). The codes stay distinct and exact.
/// </para>
/// </summary>
public static class UniformQuantizer
{
    /// <summary>Fewest bits these quantizers take (1 bit is sign).</summary>
    public const int MinBits = 2;

    /// <summary>Most bits these quantizers take (32 bits is float32).</summary>
    public const int MaxBits = 31;

    /// <summary>The activation code <c>round(clip(x, 0, 1) * (2^bits - 1))</c>; <paramref name="bits"/> in 2..31, unchecked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ActivationCode(float x, int bits)
    {
        if (bits <= BitPlanes.MaxBits)
            return BitPlanes.QuantizeActivation(x, bits);
        uint levels = Levels(bits);
        if (!(x > 0f))
            return 0;
        if (x >= 1f)
            return levels;
        var (mantissa, shift) = Decompose(x);
        // x = mantissa / 2^shift, so x * L = mantissa * L / 2^shift with mantissa * L < 2^24 * 2^31.
        return shift >= 64 ? 0 : RoundHalfEven((UInt128)(mantissa * (ulong)levels), shift);
    }

    /// <summary>The weight code <c>round((clip(w, -1, 1) + 1) / 2 * (2^bits - 1))</c>; <paramref name="bits"/> in 2..31, unchecked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint WeightCode(float w, int bits)
    {
        if (bits <= BitPlanes.MaxBits)
            return BitPlanes.QuantizeWeight(w, bits);
        uint levels = Levels(bits);
        if (float.IsNaN(w) || w <= -1f)
            return 0;
        if (w >= 1f)
            return levels;
        // L is odd, so L / 2 lies halfway between (L - 1) / 2 and (L + 1) / 2: w = 0 is a tie (the even code
        // (L + 1) / 2 = 2^(bits - 1) wins), and a w too small to move (w + 1) L / 2 by half a code only picks a side.
        if (w == 0f)
            return (levels + 1) / 2;
        var (mantissa, shift) = Decompose(Math.Abs(w));
        if (shift >= 64)
            return w > 0f ? (levels + 1) / 2 : (levels - 1) / 2;
        // |w| = mantissa / 2^shift, so (w + 1) L / 2 = (2^shift ± mantissa) L / 2^(shift + 1), below 2^(65 + 31).
        UInt128 offset = UInt128.One << shift;
        UInt128 numerator = (w > 0f ? offset + mantissa : offset - mantissa) * levels;
        return RoundHalfEven(numerator, shift + 1);
    }

    /// <summary>The value <c>code / (2^bits - 1)</c> of <see cref="ActivationCode"/>, in [0, 1].</summary>
    public static float ActivationValue(float x, int bits)
    {
        uint code = ActivationCode(x, bits);
        return bits <= BitPlanes.MaxBits ? code / (float)Levels(bits) : (float)(code / (double)Levels(bits));
    }

    /// <summary>The value <c>(2 code - (2^bits - 1)) / (2^bits - 1)</c> of <see cref="WeightCode"/>, in [-1, 1].</summary>
    public static float WeightValue(float w, int bits)
    {
        long code = WeightCode(w, bits), levels = Levels(bits);
        return bits <= BitPlanes.MaxBits ? (2 * code - levels) / (float)levels : (float)((2 * code - levels) / (double)levels);
    }

    /// <summary><c>2^bits - 1</c>.</summary>
    public static uint Levels(int bits) => (uint)((1L << bits) - 1);

    /// <summary>A positive finite float as <c>mantissa / 2^shift</c> exactly (shift >= 24 for values below 1).</summary>
    private static (ulong Mantissa, int Shift) Decompose(float positive)
    {
        int raw = BitConverter.SingleToInt32Bits(positive);
        int exponent = raw >> 23;
        ulong mantissa = (ulong)(raw & 0x7FFFFF);
        if (exponent == 0)
            exponent = 1;
        else
            mantissa |= 1UL << 23;
        return (mantissa, 150 - exponent);
    }

    /// <summary><c>numerator / 2^shift</c> rounded half to even, for shift in 1..127 and a result below 2^32.</summary>
    private static uint RoundHalfEven(UInt128 numerator, int shift)
    {
        UInt128 quotient = numerator >> shift;
        UInt128 remainder = numerator - (quotient << shift);
        UInt128 half = UInt128.One << (shift - 1);
        if (remainder > half || (remainder == half && (quotient & UInt128.One) != UInt128.Zero))
            quotient++;
        return (uint)quotient;
    }
}
