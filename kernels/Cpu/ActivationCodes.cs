// k-bit activation codes one byte each (the A operand of the byte GEMM): round(clip(x, 0, 1) * (2^k - 1)) of floats.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// Quantizes floats to unsigned activation codes <c>round(clip(x, 0, 1) * (2^bits - 1))</c> (half to even, NaN gives
/// 0), one byte per code: the codes <see cref="BitPlanes.QuantizeActivation"/> gives, element for element.
/// </summary>
public static unsafe class ActivationCodes
{
    /// <summary>Writes the <paramref name="bits"/>-bit code (2..8) of every float of <paramref name="source"/> to <paramref name="codes"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> source, int bits, Span<byte> codes, KernelPath path = KernelPath.Auto)
    {
        BitPlanes.CheckBits(bits, BitPlanes.MinActivationBits, nameof(bits));
        KernelChecks.Length(codes, source.Length, nameof(codes), "one byte per float of source");
        path = KernelDispatch.Resolve(path);
        int length = source.Length;
        var scale = Vector256.Create((float)((1 << bits) - 1));
        fixed (float* x = source)
        fixed (byte* q = codes)
        {
            int i = 0;
            // The AVX-512 path uses 256-bit vectors too: this streams memory and gains nothing from a wider width.
            if (path != KernelPath.Scalar)
                for (; i + 32 <= length; i += 32)
                    Vector256.Narrow(
                        Vector256.Narrow(Codes(x + i, scale), Codes(x + i + 8, scale)),
                        Vector256.Narrow(Codes(x + i + 16, scale), Codes(x + i + 24, scale))).Store(q + i);
            for (; i < length; i++)
                q[i] = BitPlanes.QuantizeActivation(x[i], bits);
        }
    }

    /// <summary>Codes of 8 floats, by the operations of <see cref="BitPlanes.QuantizeActivation"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Codes(float* at, Vector256<float> scale)
    {
        var x = Vector256.Load(at);
        // x > 0 is false for NaN, so NaN becomes 0 as in the scalar quantizer.
        var clipped = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256<float>.Zero);
        clipped = Vector256.Min(clipped, Vector256<float>.One);
        return Vector256.ConvertToInt32Native(Vector256.Round(clipped * scale)).AsUInt32();
    }
}
