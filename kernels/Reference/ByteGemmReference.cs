// The definition of the byte GEMM as a plain integer loop over activation codes and signed weight levels; the test oracle.
namespace BnnDsl.Kernels.Reference;

/// <summary>Naive byte GEMM: <c>D[m, n] = Σ_k qa[m, k] * level[n, k]</c>, codes u8, levels s8, sums in int64 then checked into int32.</summary>
public static class ByteGemmReference
{
    /// <summary>The levels <c>2 q - (2^bits - 1)</c> of weight codes q.</summary>
    public static sbyte[] Levels(ReadOnlySpan<byte> weightCodes, int bits)
    {
        var levels = new sbyte[weightCodes.Length];
        for (int i = 0; i < levels.Length; i++)
            levels[i] = checked((sbyte)(2 * weightCodes[i] - ((1 << bits) - 1)));
        return levels;
    }

    /// <summary>
    /// Integer dot products of <paramref name="m"/> rows of activation codes (row r at <c>r * lda</c>) with
    /// <paramref name="n"/> rows of <paramref name="k"/> weight levels (row-major); result m × n, row-major.
    /// </summary>
    public static int[] Multiply(ReadOnlySpan<byte> activationCodes, int m, int lda, ReadOnlySpan<sbyte> weightLevels, int n, int k)
    {
        var d = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int t = 0; t < k; t++)
                    sum += activationCodes[i * lda + t] * weightLevels[j * k + t];
                d[i * n + j] = checked((int)sum);
            }
        return d;
    }
}
