// Float comparisons of the GPU training kernels against the CPU runtime, with a tolerance each test justifies.
namespace BnnDsl.Kernels.Gpu.Tests;

internal static class GpuTolerance
{
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
