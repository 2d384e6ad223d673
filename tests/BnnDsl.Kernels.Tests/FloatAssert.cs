// Comparison of float kernel results with their references at the float-sum tolerance (summation order differs).
namespace BnnDsl.Kernels.Tests;

internal static class FloatAssert
{
    /// <summary>Relative tolerance of a float sum against the double-precision reference.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Each element within <see cref="Tolerance"/> × max(1, |expected|), NaN nowhere.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)expected[i] - actual[i]);
            if (!(error <= Tolerance * Math.Max(1.0, Math.Abs(expected[i]))))
                Assert.Fail($"{context}: element {i} is {actual[i]}, expected {expected[i]}.");
        }
    }
}
