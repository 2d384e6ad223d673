// k-bit quantization (DoReFa) and bit-plane packing of activations for the bit-serial GEMM.
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Quantizers and the activation layout of <see cref="BitSerialGemm"/>.
/// <para>
/// Activations (DoReFa): a k-bit activation has the unsigned code <c>q = round(clip(x, 0, 1) * (2^k - 1))</c> and
/// the value <c>q / (2^k - 1)</c>. Weights: a k-bit weight is uniform in [-1, 1] with code
/// <c>q = round((clip(w, -1, 1) + 1) / 2 * (2^k - 1))</c> and integer level <c>2q - (2^k - 1)</c> (an odd integer in
/// <c>[-(2^k - 1), 2^k - 1]</c>; for k = 1, code 1 is +1 and code 0 is -1), value <c>level / (2^k - 1)</c>.
/// <c>round</c> is round-half-to-even (<see cref="MathF.Round(float)"/>, as numpy and torch round); NaN counts
/// as the lowest code.
/// </para>
/// <para>
/// Activation layout: row r of a k-bit matrix with K columns starts at word <c>r * lda</c> and holds k planes of
/// <see cref="WordsFor"/>(K) words each, plane i (bit i of the codes, i = 0 least significant) first at word
/// <c>i * WordsFor(K)</c>; column c is bit c % 64 of word c / 64 of each plane. The bits past K in every plane are
/// zero, so code 0 (the value 0, also the zero padding of a convolution) is all-zero words.
/// </para>
/// </summary>
public static class BitPlanes
{
    /// <summary>Fewest bits of a bit-serial activation (1-bit activations use <see cref="XnorGemm"/>).</summary>
    public const int MinActivationBits = 2;

    /// <summary>Most bits of a bit-serial activation or weight.</summary>
    public const int MaxBits = 8;

    /// <summary>Words per plane of <paramref name="k"/> columns.</summary>
    public static int WordsFor(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return (k + 63) >> 6;
    }

    /// <summary>Words per packed row of <paramref name="k"/> columns of <paramref name="bits"/>-bit codes (all planes).</summary>
    public static int RowWords(int k, int bits) => bits * WordsFor(k);

    /// <summary>The activation code <c>round(clip(x, 0, 1) * (2^bits - 1))</c>; NaN gives 0. <paramref name="bits"/>: 1..8, unchecked (a per-element helper; the packers check).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte QuantizeActivation(float x, int bits)
    {
        float clipped = x > 0f ? (x < 1f ? x : 1f) : 0f;
        return (byte)MathF.Round(clipped * ((1 << bits) - 1));
    }

    /// <summary>The weight code <c>round((clip(w, -1, 1) + 1) / 2 * (2^bits - 1))</c>; NaN gives 0. <paramref name="bits"/>: 1..8, unchecked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte QuantizeWeight(float w, int bits)
    {
        float clipped = w > -1f ? (w < 1f ? w : 1f) : -1f;
        return (byte)MathF.Round((clipped + 1f) * 0.5f * ((1 << bits) - 1));
    }

    /// <summary>The odd integer level <c>2 * code - (2^bits - 1)</c> of a weight code.</summary>
    public static int WeightLevel(int code, int bits) => 2 * code - ((1 << bits) - 1);

    /// <summary>
    /// Quantizes <paramref name="rows"/> rows of <paramref name="k"/> floats to <paramref name="bits"/>-bit activation
    /// codes and packs them as planes (see the class remarks), row r at word <c>r * lda</c>
    /// (<paramref name="lda"/> 0: <see cref="RowWords"/>). Words of a row past its planes are left as they are.
    /// </summary>
    public static void PackActivations(ReadOnlySpan<float> source, int rows, int k, int bits, Span<ulong> planes,
        int lda = 0, KernelPath path = KernelPath.Auto)
    {
        int words = WordsFor(k);
        lda = CheckActivationArguments(rows, k, bits, planes.Length, lda, nameof(planes));
        KernelChecks.Length(source, (long)rows * k, nameof(source), "rows * k floats");
        path = KernelDispatch.Resolve(path);
        float levels = (1 << bits) - 1;
        Span<byte> chunk = stackalloc byte[64];
        for (int r = 0; r < rows; r++)
        {
            var src = source.Slice(r * k, k);
            var dst = planes.Slice(r * lda, bits * words);
            // The AVX-512 path packs with 256-bit vectors too: packing streams memory and is not worth a wider width.
            int full = path == KernelPath.Scalar ? 0 : k >> 6;
            if (full > 0)
                PackFloatWordsVector(src, dst, words, bits, full, levels);
            for (int w = full; w < words; w++)
            {
                int begin = w * 64, end = Math.Min(k, begin + 64);
                chunk.Clear();
                for (int c = begin; c < end; c++)
                    chunk[c - begin] = QuantizeActivation(src[c], bits);
                StoreWordScalar(chunk, dst, w, words, bits);
            }
        }
    }

    /// <summary>
    /// Packs <paramref name="rows"/> rows of <paramref name="k"/> ready-made <paramref name="bits"/>-bit codes as
    /// planes, row r at word <c>r * lda</c> (<paramref name="lda"/> 0: <see cref="RowWords"/>). Throws when a code
    /// does not fit in <paramref name="bits"/> bits (the planes are then unspecified).
    /// </summary>
    public static void PackActivationCodes(ReadOnlySpan<byte> codes, int rows, int k, int bits, Span<ulong> planes,
        int lda = 0, KernelPath path = KernelPath.Auto)
    {
        int words = WordsFor(k);
        lda = CheckActivationArguments(rows, k, bits, planes.Length, lda, nameof(planes));
        KernelChecks.Length(codes, (long)rows * k, nameof(codes), "rows * k codes");
        path = KernelDispatch.Resolve(path);
        int seen = 0;
        for (int r = 0; r < rows; r++)
            seen |= PackCodeRow(codes.Slice(r * k, k), planes.Slice(r * lda, bits * words), words, bits, path != KernelPath.Scalar);
        if (seen >> bits != 0)
            throw new ArgumentException($"codes holds a value above {(1 << bits) - 1}, the largest {bits}-bit code.", nameof(codes));
    }

    /// <summary>Packs one row of codes into its planes; returns the OR of all codes (to check their range).</summary>
    internal static int PackCodeRow(ReadOnlySpan<byte> src, Span<ulong> dst, int words, int bits, bool vector)
    {
        int seen = 0;
        int full = vector ? src.Length >> 6 : 0;
        if (full > 0)
        {
            ref byte s = ref MemoryMarshal.GetReference(src);
            var seenVector = Vector256<byte>.Zero;
            for (int w = 0; w < full; w++)
            {
                var low = Vector256.LoadUnsafe(ref s, (nuint)(w * 64));
                var high = Vector256.LoadUnsafe(ref s, (nuint)(w * 64 + 32));
                seenVector |= low | high;
                for (int i = 0; i < bits; i++)
                    dst[i * words + w] = PlaneBits(low, high, i);
            }
            for (int j = 0; j < 32; j++)
                seen |= seenVector.GetElement(j);
        }
        Span<byte> chunk = stackalloc byte[64];
        for (int w = full; w < words; w++)
        {
            int begin = w * 64, end = Math.Min(src.Length, begin + 64);
            chunk.Clear();
            src[begin..end].CopyTo(chunk);
            foreach (byte code in chunk)
                seen |= code;
            StoreWordScalar(chunk, dst, w, words, bits);
        }
        return seen;
    }

    /// <summary>
    /// Writes word <paramref name="w"/> of every plane from 64 byte codes without vectors: per 8 codes, bit i of
    /// each byte is masked and the multiply by 0x0102040810204080 gathers the 8 bits into the top byte.
    /// </summary>
    private static void StoreWordScalar(ReadOnlySpan<byte> chunk, Span<ulong> dst, int w, int words, int bits)
    {
        var groups = MemoryMarshal.Cast<byte, ulong>(chunk);
        for (int i = 0; i < bits; i++)
        {
            ulong word = 0;
            for (int g = 0; g < 8; g++)
            {
                ulong group = BitConverter.IsLittleEndian ? groups[g] : BinaryPrimitives.ReverseEndianness(groups[g]);
                word |= ((group >> i) & 0x0101010101010101UL) * 0x0102040810204080UL >> 56 << (8 * g);
            }
            dst[i * words + w] = word;
        }
    }

    /// <summary>
    /// Bit <paramref name="plane"/> of 64 byte codes as one word: moved to the top bit of each byte by a 16-bit shift
    /// (bits crossing into the upper byte land below its top bit), then gathered.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PlaneBits(Vector256<byte> low, Vector256<byte> high, int plane)
        => (ulong)Vector256.ShiftLeft(low.AsUInt16(), 7 - plane).AsByte().ExtractMostSignificantBits()
           | (ulong)Vector256.ShiftLeft(high.AsUInt16(), 7 - plane).AsByte().ExtractMostSignificantBits() << 32;

    /// <summary>
    /// Quantizes and packs the first <paramref name="full"/> whole words of a row: 64 floats become 64 byte codes
    /// in two vectors, then each plane is one shift and one sign-bit gather per 32 codes.
    /// </summary>
    private static void PackFloatWordsVector(ReadOnlySpan<float> src, Span<ulong> dst, int words, int bits, int full, float levels)
    {
        ref float s = ref MemoryMarshal.GetReference(src);
        var scale = Vector256.Create(levels);
        for (int w = 0; w < full; w++)
        {
            nuint at = (nuint)(w * 64);
            var low = Vector256.Narrow(
                Vector256.Narrow(Codes(ref s, at, scale), Codes(ref s, at + 8, scale)),
                Vector256.Narrow(Codes(ref s, at + 16, scale), Codes(ref s, at + 24, scale)));
            var high = Vector256.Narrow(
                Vector256.Narrow(Codes(ref s, at + 32, scale), Codes(ref s, at + 40, scale)),
                Vector256.Narrow(Codes(ref s, at + 48, scale), Codes(ref s, at + 56, scale)));
            for (int i = 0; i < bits; i++)
                dst[i * words + w] = PlaneBits(low, high, i);
        }
    }

    /// <summary>Activation codes of 8 floats, by the operations of <see cref="QuantizeActivation"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Codes(ref float s, nuint at, Vector256<float> scale)
    {
        var x = Vector256.LoadUnsafe(ref s, at);
        // x > 0 is false for NaN, so NaN becomes 0 as in the scalar quantizer.
        var clipped = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256<float>.Zero);
        clipped = Vector256.Min(clipped, Vector256<float>.One);
        return Vector256.ConvertToInt32Native(Vector256.Round(clipped * scale)).AsUInt32();
    }

    private static int CheckActivationArguments(int rows, int k, int bits, int planesLength, int lda, string planesName)
    {
        KernelChecks.NonNegative(rows, nameof(rows));
        KernelChecks.NonNegative(k, nameof(k));
        CheckBits(bits, MinActivationBits, nameof(bits));
        int rowWords = RowWords(k, bits);
        if (lda == 0)
            lda = rowWords;
        if (lda < rowWords)
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least bits * WordsFor(k) ({rowWords}).");
        if (rows > 0 && planesLength < (long)(rows - 1) * lda + rowWords)
            throw new ArgumentException(
                $"{planesName} holds {planesLength} words but needs at least {(long)(rows - 1) * lda + rowWords} (rows rows of lda words).", planesName);
        return lda;
    }

    internal static void CheckBits(int bits, int min, string name)
    {
        if (bits < min || bits > MaxBits)
            throw new ArgumentOutOfRangeException(name, bits, $"{name} must lie in {min}..{MaxBits}.");
    }
}
