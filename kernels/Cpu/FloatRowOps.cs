// Element-wise operations on contiguous float runs (a pixel's channels), one struct per path; used by pooling and col2im.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>In-place operations on runs of <c>n</c> floats: <c>dst = max(dst, src)</c>, <c>dst += src</c>, <c>dst *= s</c>.</summary>
internal unsafe interface IFloatRowOps
{
    static abstract void Max(float* dst, float* src, int n);

    static abstract void Add(float* dst, float* src, int n);

    static abstract void Scale(float* dst, float s, int n);
}

/// <summary>Plain loops.</summary>
internal readonly unsafe struct ScalarRowOps : IFloatRowOps
{
    public static void Max(float* dst, float* src, int n)
    {
        for (int i = 0; i < n; i++)
            if (src[i] > dst[i])
                dst[i] = src[i];
    }

    public static void Add(float* dst, float* src, int n)
    {
        for (int i = 0; i < n; i++)
            dst[i] += src[i];
    }

    public static void Scale(float* dst, float s, int n)
    {
        for (int i = 0; i < n; i++)
            dst[i] *= s;
    }
}

/// <summary>AVX: 8 floats per step, the tail in scalar code.</summary>
internal readonly unsafe struct Avx2RowOps : IFloatRowOps
{
    public static void Max(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
            Avx.Store(dst + i, Avx.Max(Avx.LoadVector256(dst + i), Avx.LoadVector256(src + i)));
        ScalarRowOps.Max(dst + i, src + i, n - i);
    }

    public static void Add(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
            Avx.Store(dst + i, Avx.Add(Avx.LoadVector256(dst + i), Avx.LoadVector256(src + i)));
        ScalarRowOps.Add(dst + i, src + i, n - i);
    }

    public static void Scale(float* dst, float s, int n)
    {
        var scale = Vector256.Create(s);
        int i = 0;
        for (; i + 8 <= n; i += 8)
            Avx.Store(dst + i, Avx.Multiply(Avx.LoadVector256(dst + i), scale));
        ScalarRowOps.Scale(dst + i, s, n - i);
    }
}

/// <summary>512-bit vectors: 16 floats per step (software fallback where AVX-512 is missing), the tail in scalar code.</summary>
internal readonly unsafe struct Avx512RowOps : IFloatRowOps
{
    public static void Max(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector512<float> d = Vector512.Load(dst + i), s = Vector512.Load(src + i);
            Vector512.ConditionalSelect(Vector512.GreaterThan(s, d), s, d).Store(dst + i);
        }
        ScalarRowOps.Max(dst + i, src + i, n - i);
    }

    public static void Add(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
            (Vector512.Load(dst + i) + Vector512.Load(src + i)).Store(dst + i);
        ScalarRowOps.Add(dst + i, src + i, n - i);
    }

    public static void Scale(float* dst, float s, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
            (Vector512.Load(dst + i) * s).Store(dst + i);
        ScalarRowOps.Scale(dst + i, s, n - i);
    }
}
