// Float comparisons of the GPU training kernels against the CPU runtime, with a tolerance each test justifies.
namespace BnnDsl.Kernels.Gpu.Tests;

internal static class GpuTolerance
{
    /// <summary>The bound of <see cref="SameFloats"/> on CUDA, relative to the largest expected magnitude (at least 1).</summary>
    public const float CudaRounding = 1e-5f;

    /// <summary>
    /// Float outputs of a kernel whose .NET reference does the same operations in the same order: bit for bit on the CPU
    /// accelerator (the same .NET arithmetic); on CUDA within <see cref="CudaRounding"/> · max(1, max |expected|),
    /// since ptxas contracts a·b + c into one FMA (the product is not rounded), so a result may move by an ulp or two of
    /// the larger of product and result. A wrong integer dot behind a scale-bias output moves it by 2·|scale|, far more.
    /// </summary>
    public static void SameFloats(GpuDeviceKind kind, float[] expected, float[] actual, string what)
    {
        if (kind != GpuDeviceKind.Cuda)
        {
            Assert.Equal(expected, actual);
            return;
        }
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1f;
        foreach (float e in expected)
            scale = MathF.Max(scale, MathF.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(actual[i] - expected[i]) <= CudaRounding * scale))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (CUDA tolerance {CudaRounding} * {scale}).");
    }

    /// <summary>Every |actual − expected| &lt;= relative · (1 + |expected|); names the first element that is not.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a))
                continue;
            if (!(MathF.Abs(a - e) <= relative * (1f + MathF.Abs(e))))
                Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (tolerance {relative} * (1 + |expected|)).");
        }
    }
}
