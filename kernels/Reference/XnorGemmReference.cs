// The definition of the XNOR GEMM and its output transforms, one bit at a time; the test oracle.
namespace BnnDsl.Kernels.Reference;

/// <summary>Naive XNOR GEMM: dot = K - 2 * (number of differing bits), bit by bit.</summary>
public static class XnorGemmReference
{
    /// <summary>Dot products of <paramref name="m"/> rows of A with <paramref name="n"/> rows of B (row-major, m × n).</summary>
    public static int[] Multiply(ReadOnlySpan<ulong> a, int m, int lda, ReadOnlySpan<ulong> b, int n, int ldb, int kWords, int kBits)
    {
        var c = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int differing = 0;
                for (int bit = 0; bit < kWords * 64; bit++)
                {
                    ulong x = (a[i * lda + bit / 64] >> (bit % 64)) & 1, y = (b[j * ldb + bit / 64] >> (bit % 64)) & 1;
                    if (x != y)
                        differing++;
                }
                c[i * n + j] = kBits - 2 * differing;
            }
        return c;
    }

    /// <summary><c>scale[n] * dot + bias[n]</c>.</summary>
    public static float[] ScaleBias(int[] dots, int m, int n, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[i * n + j] = scale[j] * dots[i * n + j] + bias[j];
        return c;
    }

    /// <summary>Packed rows of <c>ceil(n / 64)</c> words: bit j is 1 (-1) when dot &lt; threshold[j].</summary>
    public static ulong[] Threshold(int[] dots, int m, int n, ReadOnlySpan<int> threshold)
    {
        int words = (n + 63) / 64;
        var bits = new ulong[m * words];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                if (dots[i * n + j] < threshold[j])
                    bits[i * words + j / 64] |= 1UL << (j % 64);
        return bits;
    }
}
