// The definition of k-bit quantization and of the bit-serial GEMM as plain integer loops over codes; the test oracle.
namespace BnnDsl.Kernels.Reference;

/// <summary>Naive low-bit GEMM on codes (no bit planes): <c>D[m, n] = Σ_k qa[m, k] * (2 qw[n, k] - (2^kw - 1))</c>.</summary>
public static class BitSerialGemmReference
{
    /// <summary>Activation code: <c>round(clip(x, 0, 1) * (2^bits - 1))</c>, half to even; NaN gives 0.</summary>
    public static byte QuantizeActivation(float x, int bits)
    {
        float clipped = x;
        if (!(clipped > 0f))
            clipped = 0f;
        if (clipped > 1f)
            clipped = 1f;
        return (byte)MathF.Round(clipped * ((1 << bits) - 1), MidpointRounding.ToEven);
    }

    /// <summary>Weight code: <c>round((clip(w, -1, 1) + 1) / 2 * (2^bits - 1))</c>, half to even; NaN gives 0.</summary>
    public static byte QuantizeWeight(float w, int bits)
    {
        float clipped = w;
        if (!(clipped > -1f))
            clipped = -1f;
        if (clipped > 1f)
            clipped = 1f;
        return (byte)MathF.Round((clipped + 1f) / 2f * ((1 << bits) - 1), MidpointRounding.ToEven);
    }

    /// <summary>Quantizes every element with <paramref name="quantize"/>.</summary>
    public static byte[] Quantize(ReadOnlySpan<float> values, int bits, Func<float, int, byte> quantize)
    {
        var codes = new byte[values.Length];
        for (int i = 0; i < codes.Length; i++)
            codes[i] = quantize(values[i], bits);
        return codes;
    }

    /// <summary>
    /// Integer dot products of <paramref name="m"/> rows of activation codes with <paramref name="n"/> rows of weight
    /// codes, both row-major with <paramref name="k"/> codes per row (result m × n, row-major).
    /// </summary>
    public static int[] Multiply(ReadOnlySpan<byte> activationCodes, int m, ReadOnlySpan<byte> weightCodes, int n, int k, int weightBits)
    {
        int weightMax = (1 << weightBits) - 1;
        var d = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int t = 0; t < k; t++)
                    sum += activationCodes[i * k + t] * (2 * weightCodes[j * k + t] - weightMax);
                d[i * n + j] = checked((int)sum);
            }
        return d;
    }
}
