// The definition of SGEMM, one dot product at a time in double precision; the test oracle.
namespace BnnDsl.Kernels.Reference;

/// <summary>Naive row-major <c>C = alpha * op(A) * op(B) + beta * C</c>.</summary>
public static class SgemmReference
{
    /// <summary>Same arguments and meaning as <c>Sgemm.Multiply</c> (beta == 0 ignores C's old contents).</summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float x = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float y = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)x * y;
                }
                double old = beta == 0f ? 0 : (double)beta * c[i * ldc + j];
                c[i * ldc + j] = (float)(alpha * sum + old);
            }
    }
}
