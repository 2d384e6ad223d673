// SGEMM micro-kernels: an MR × NR register tile of C += (packed A micro-panel) × (packed B micro-panel) over KC.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// A register-blocked micro-kernel with its cache-block sizes. Packed A holds MR values per K step
/// (alpha already applied), packed B holds NR values per K step; both are zero-padded to full tiles.
/// </summary>
internal unsafe interface ISgemmKernel
{
    /// <summary>Rows of the register tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile.</summary>
    static abstract int NR { get; }

    /// <summary>K depth of a block: a KC × NR micro-panel of B stays in L1.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of a block of A: MC × KC stays in L2.</summary>
    static abstract int MC { get; }

    /// <summary>Columns of a block of B: KC × NC stays in L3.</summary>
    static abstract int NC { get; }

    /// <summary>
    /// <c>C[0..rows, 0..cols] = tile + beta * C</c> (beta == 0 ignores C's old contents), where
    /// <c>tile = Σ_p a[p * MR + i] * b[p * NR + j]</c> over <paramref name="kc"/> K steps.
    /// </summary>
    static abstract void Tile(float* a, float* b, int kc, float* c, int ldc, float beta, int rows, int cols);

    /// <summary>
    /// Packs the leading K steps of a full MR-row micro-panel of alpha * A from row-major A (rows
    /// <paramref name="lda"/> apart) with vector transposes, and returns how many K steps it packed (0 where
    /// the path has no such packer; the caller packs the rest element by element).
    /// </summary>
    static abstract int PackRows(float* dst, float* src, long lda, int kc, float alpha);
}

/// <summary>Stores a computed tile (kept in a small row-major buffer) into a partial edge of C.</summary>
internal static unsafe class SgemmEdge
{
    public static void Store(float* tile, int tileStride, float* c, int ldc, float beta, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * tileStride;
            float* ci = c + (long)i * ldc;
            if (beta == 0f)
                for (int j = 0; j < cols; j++)
                    ci[j] = t[j];
            else
                for (int j = 0; j < cols; j++)
                    ci[j] = t[j] + beta * ci[j];
        }
    }
}

/// <summary>Scalar: a 4 × 4 tile of scalar FMAs (16 accumulators in registers).</summary>
internal readonly unsafe struct ScalarSgemmKernel : ISgemmKernel
{
    public static int MR => 4;
    public static int NR => 4;
    public static int KC => 256;
    public static int MC => 128;
    public static int NC => 4096;

    public static int PackRows(float* dst, float* src, long lda, int kc, float alpha) => 0;

    public static void Tile(float* a, float* b, int kc, float* c, int ldc, float beta, int rows, int cols)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++, a += 4, b += 4)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
            c00 = MathF.FusedMultiplyAdd(a0, b0, c00); c01 = MathF.FusedMultiplyAdd(a0, b1, c01);
            c02 = MathF.FusedMultiplyAdd(a0, b2, c02); c03 = MathF.FusedMultiplyAdd(a0, b3, c03);
            c10 = MathF.FusedMultiplyAdd(a1, b0, c10); c11 = MathF.FusedMultiplyAdd(a1, b1, c11);
            c12 = MathF.FusedMultiplyAdd(a1, b2, c12); c13 = MathF.FusedMultiplyAdd(a1, b3, c13);
            c20 = MathF.FusedMultiplyAdd(a2, b0, c20); c21 = MathF.FusedMultiplyAdd(a2, b1, c21);
            c22 = MathF.FusedMultiplyAdd(a2, b2, c22); c23 = MathF.FusedMultiplyAdd(a2, b3, c23);
            c30 = MathF.FusedMultiplyAdd(a3, b0, c30); c31 = MathF.FusedMultiplyAdd(a3, b1, c31);
            c32 = MathF.FusedMultiplyAdd(a3, b2, c32); c33 = MathF.FusedMultiplyAdd(a3, b3, c33);
        }
        float* tile = stackalloc float[16];
        tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
        tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
        tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
        tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
        SgemmEdge.Store(tile, 4, c, ldc, beta, rows, cols);
    }
}

/// <summary>
/// AVX2 + FMA: a 6 × 16 tile in 12 ymm accumulators; each K step loads two vectors of B, broadcasts six values
/// of A and issues 12 FMAs (two FMA ports: 6 cycles per step at peak), unrolled by 4.
/// </summary>
internal readonly unsafe struct Avx2SgemmKernel : ISgemmKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static int KC => 256;
    public static int MC => 144;
    public static int NC => 4080;

    public static void Tile(float* a, float* b, int kc, float* c, int ldc, float beta, int rows, int cols)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int i = 0; i < rows; i++)
        {
            Sse.Prefetch0(c + (long)i * ldc);
            Sse.Prefetch0(c + (long)i * ldc + 15);
        }
        int p = 0;
        for (; p + 4 <= kc; p += 4, a += 24, b += 64)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 6, b + 16, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 12, b + 32, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 18, b + 48, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        }
        for (; p < kc; p++, a += 6, b += 16)
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);

        if (rows == 6 && cols == 16)
        {
            StoreRow(c00, c01, c, beta);
            StoreRow(c10, c11, c + ldc, beta);
            StoreRow(c20, c21, c + 2L * ldc, beta);
            StoreRow(c30, c31, c + 3L * ldc, beta);
            StoreRow(c40, c41, c + 4L * ldc, beta);
            StoreRow(c50, c51, c + 5L * ldc, beta);
            return;
        }
        float* tile = stackalloc float[96];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        SgemmEdge.Store(tile, 16, c, ldc, beta, rows, cols);
    }

    /// <summary>
    /// Eight K steps at a time: six rows of 8 floats (plus two zero rows) go through an 8 × 8 transpose
    /// (unpack, shuffle, permute2f128) and come out as eight K steps of 6 floats.
    /// </summary>
    public static int PackRows(float* dst, float* src, long lda, int kc, float alpha)
    {
        var scale = Vector256.Create(alpha);
        int p = 0;
        for (; p + 8 <= kc; p += 8, src += 8, dst += 48)
        {
            Vector256<float> r0 = Avx.Multiply(scale, Avx.LoadVector256(src)), r1 = Avx.Multiply(scale, Avx.LoadVector256(src + lda));
            Vector256<float> r2 = Avx.Multiply(scale, Avx.LoadVector256(src + 2 * lda)), r3 = Avx.Multiply(scale, Avx.LoadVector256(src + 3 * lda));
            Vector256<float> r4 = Avx.Multiply(scale, Avx.LoadVector256(src + 4 * lda)), r5 = Avx.Multiply(scale, Avx.LoadVector256(src + 5 * lda));
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
            Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
            Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
            Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> s4 = Avx.Shuffle(t4, default, 0x44), s5 = Avx.Shuffle(t4, default, 0xEE);
            Vector256<float> s6 = Avx.Shuffle(t5, default, 0x44), s7 = Avx.Shuffle(t5, default, 0xEE);
            // Each store writes 8 floats; the 2 past the step's 6 are overwritten by the next step's store.
            Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
            Avx.Store(dst + 6, Avx.Permute2x128(s1, s5, 0x20));
            Avx.Store(dst + 12, Avx.Permute2x128(s2, s6, 0x20));
            Avx.Store(dst + 18, Avx.Permute2x128(s3, s7, 0x20));
            Avx.Store(dst + 24, Avx.Permute2x128(s0, s4, 0x31));
            Avx.Store(dst + 30, Avx.Permute2x128(s1, s5, 0x31));
            Avx.Store(dst + 36, Avx.Permute2x128(s2, s6, 0x31));
            Vector256<float> last = Avx.Permute2x128(s3, s7, 0x31);
            Sse.Store(dst + 42, last.GetLower());
            Sse.StoreLow(dst + 46, last.GetUpper());
        }
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* a, float* b,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
    {
        Vector256<float> b0 = Avx.LoadVector256(b), b1 = Avx.LoadVector256(b + 8);
        Vector256<float> x = Avx.BroadcastScalarToVector256(a);
        c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
        x = Avx.BroadcastScalarToVector256(a + 1);
        c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
        x = Avx.BroadcastScalarToVector256(a + 2);
        c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
        x = Avx.BroadcastScalarToVector256(a + 3);
        c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
        x = Avx.BroadcastScalarToVector256(a + 4);
        c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
        x = Avx.BroadcastScalarToVector256(a + 5);
        c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector256<float> lo, Vector256<float> hi, float* c, float beta)
    {
        if (beta == 0f)
        {
            Avx.Store(c, lo);
            Avx.Store(c + 8, hi);
        }
        else if (beta == 1f)
        {
            Avx.Store(c, Avx.Add(lo, Avx.LoadVector256(c)));
            Avx.Store(c + 8, Avx.Add(hi, Avx.LoadVector256(c + 8)));
        }
        else
        {
            var scale = Vector256.Create(beta);
            Avx.Store(c, Fma.MultiplyAdd(scale, Avx.LoadVector256(c), lo));
            Avx.Store(c + 8, Fma.MultiplyAdd(scale, Avx.LoadVector256(c + 8), hi));
        }
    }
}

/// <summary>
/// AVX-512: a 6 × 32 tile in 12 zmm accumulators (one 512-bit vector holds 16 floats), written with
/// <see cref="Vector512{T}"/> so it also runs, slowly, through the software fallback where AVX-512 is missing.
/// </summary>
internal readonly unsafe struct Avx512SgemmKernel : ISgemmKernel
{
    public static int MR => 6;
    public static int NR => 32;
    public static int KC => 256;
    public static int MC => 144;
    public static int NC => 4064;

    public static int PackRows(float* dst, float* src, long lda, int kc, float alpha) => 0;

    public static void Tile(float* a, float* b, int kc, float* c, int ldc, float beta, int rows, int cols)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += 6, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
        }

        if (rows == 6 && cols == 32)
        {
            StoreRow(c00, c01, c, beta);
            StoreRow(c10, c11, c + ldc, beta);
            StoreRow(c20, c21, c + 2L * ldc, beta);
            StoreRow(c30, c31, c + 3L * ldc, beta);
            StoreRow(c40, c41, c + 4L * ldc, beta);
            StoreRow(c50, c51, c + 5L * ldc, beta);
            return;
        }
        float* tile = stackalloc float[192];
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        SgemmEdge.Store(tile, 32, c, ldc, beta, rows, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector512<float> lo, Vector512<float> hi, float* c, float beta)
    {
        if (beta == 0f)
        {
            lo.Store(c);
            hi.Store(c + 16);
        }
        else
        {
            var scale = Vector512.Create(beta);
            Vector512.FusedMultiplyAdd(scale, Vector512.Load(c), lo).Store(c);
            Vector512.FusedMultiplyAdd(scale, Vector512.Load(c + 16), hi).Store(c + 16);
        }
    }
}
