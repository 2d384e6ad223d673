// Packs the signs of a float tensor (NHWC activations or OHWI weights) into 64-bit words along channels.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Sign bit-packing along the innermost (channel) dimension. Row r of <c>rows × channels</c> floats becomes
/// <see cref="WordsFor"/>(channels) words; channel c goes to bit c % 64 of word c / 64. Bit 0 encodes +1
/// (x &gt;= 0, including -0), bit 1 encodes -1 (x &lt; 0, and NaN). Unused tail bits of the last word are zero.
/// </summary>
public static class SignPacking
{
    /// <summary>Words per packed row of <paramref name="channels"/> channels.</summary>
    public static int WordsFor(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        return (channels + 63) >> 6;
    }

    /// <summary>Packs <paramref name="rows"/> rows of <paramref name="channels"/> floats into <paramref name="packed"/>.</summary>
    public static void Pack(ReadOnlySpan<float> source, int rows, int channels, Span<ulong> packed, KernelPath path = KernelPath.Auto)
    {
        int words = WordsFor(channels);
        KernelChecks.Length(source, (long)rows * channels, nameof(source), "rows * channels floats");
        KernelChecks.Length(packed, (long)rows * words, nameof(packed), "rows * SignPacking.WordsFor(channels) words");
        path = KernelDispatch.Resolve(path);
        for (int r = 0; r < rows; r++)
        {
            var src = source.Slice(r * channels, channels);
            var dst = packed.Slice(r * words, words);
            switch (path)
            {
                case KernelPath.Avx512: PackRowAvx512(src, dst); break;
                case KernelPath.Avx2: PackRowAvx2(src, dst); break;
                default: PackRowScalar(src, dst, 0); break;
            }
        }
    }

    private static void PackRowAvx512(ReadOnlySpan<float> src, Span<ulong> dst)
    {
        int full = src.Length >> 6;
        ref float s = ref MemoryMarshal.GetReference(src);
        for (int w = 0; w < full; w++)
        {
            ulong word = 0;
            for (int q = 0; q < 4; q++)
            {
                var x = Vector512.LoadUnsafe(ref s, (nuint)(w * 64 + q * 16));
                word |= (ulong)(~Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero)).ExtractMostSignificantBits() << (q * 16);
            }
            dst[w] = word;
        }
        PackRowScalar(src, dst, full);
    }

    private static void PackRowAvx2(ReadOnlySpan<float> src, Span<ulong> dst)
    {
        int full = src.Length >> 6;
        ref float s = ref MemoryMarshal.GetReference(src);
        for (int w = 0; w < full; w++)
        {
            ulong word = 0;
            for (int q = 0; q < 8; q++)
            {
                var x = Vector256.LoadUnsafe(ref s, (nuint)(w * 64 + q * 8));
                // bit = not (x >= 0): true for negatives and for NaN.
                word |= (ulong)(~Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero)).ExtractMostSignificantBits() << (q * 8);
            }
            dst[w] = word;
        }
        PackRowScalar(src, dst, full);
    }

    /// <summary>Packs words <paramref name="firstWord"/>.. of one row with scalar code (also the tail of the vector paths).</summary>
    private static void PackRowScalar(ReadOnlySpan<float> src, Span<ulong> dst, int firstWord)
    {
        for (int w = firstWord; w < dst.Length; w++)
        {
            int begin = w * 64, end = Math.Min(src.Length, begin + 64);
            ulong word = 0;
            for (int c = begin; c < end; c++)
                if (!(src[c] >= 0f))
                    word |= 1UL << (c - begin);
            dst[w] = word;
        }
    }
}
