// The comparison every export test makes: ONNX Runtime's logits against ours, within a relative tolerance, same class.
namespace BnnDsl.Onnx.Tests;

/// <summary>Asserts that two batches of logits agree.</summary>
internal static class Logits
{
    /// <summary>
    /// <c>|actual - expected| &lt;= relative · max(1, largest |expected logit| of the sample)</c> for every logit, and the
    /// same predicted class for every sample.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, float[] actual, int batch, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        int classes = expected.Length / batch;
        for (int i = 0; i < expected.Length; i++)
        {
            // Rounding grows with the size of the terms, so the sample's largest logit sets the scale.
            double scale = 1;
            foreach (float logit in expected.Slice(i / classes * classes, classes))
                scale = Math.Max(scale, Math.Abs(logit));
            double allowed = relative * scale;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= allowed,
                $"logit {i % classes} of sample {i / classes}: ONNX Runtime {actual[i]}, ours {expected[i]} (allowed difference {allowed})");
        }
        for (int b = 0; b < batch; b++)
            Assert.Equal(ArgMax(expected.Slice(b * classes, classes)), ArgMax(actual.AsSpan(b * classes, classes)));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best])
                best = i;
        return best;
    }
}
