// Shared pieces of the layer tests: seeded inputs, a finite-difference gradient check, closeness asserts.
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Runtime.Tests.Layers;

internal static class LayerTestKit
{
    /// <summary>Uniform floats in [-scale, scale], with a few exact zeros.</summary>
    public static float[] Floats(Random random, int count, float scale = 1f, float zeroShare = 0.03f)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = random.NextSingle() < zeroShare ? 0f : (random.NextSingle() * 2f - 1f) * scale;
        return x;
    }

    public static float Sign(float v) => v >= 0f ? 1f : -1f;

    /// <summary>|expected - actual| &lt;= relative * max(|expected|, |actual|) + absolute, element by element.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double bound = relative * Math.Max(Math.Abs(e), Math.Abs(a)) + absolute;
            Assert.True(Math.Abs(e - a) <= bound, $"{what}[{i}]: expected {e}, got {a} (bound {bound}).");
        }
    }

    /// <summary>
    /// A dense layer written out in double, before any straight-through gate: y[b, o] = Σ a q, dW[o, i] = Σ dy a,
    /// dx[b, i] = Σ dy q, with a = <paramref name="activation"/>(x) and q = <paramref name="weight"/>(W).
    /// </summary>
    public static (double[] Y, double[] Dw, double[] Dx) DenseFormulas(float[] x, float[] w, float[] dy, int batch, int inputs, int outputs,
        Func<float, double> activation, Func<float, double> weight)
    {
        var y = new double[batch * outputs];
        var dw = new double[w.Length];
        var dx = new double[x.Length];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < outputs; o++)
                for (int i = 0; i < inputs; i++)
                {
                    double a = activation(x[b * inputs + i]), q = weight(w[o * inputs + i]), g = dy[b * outputs + o];
                    y[b * outputs + o] += a * q;
                    dw[o * inputs + i] += g * a;
                    dx[b * inputs + i] += g * q;
                }
        return (y, dw, dx);
    }

    /// <summary>
    /// y within <paramref name="yTolerance"/> (relative and absolute) of <paramref name="yExpected"/>, the weight gradient
    /// and dx within 1e-4; <paramref name="what"/> names the case.
    /// </summary>
    public static void AssertForwardBackward(double[] yExpected, float[] y, double yTolerance, double[] dwExpected, float[] dw,
        double[] dxExpected, float[] dx, string what)
    {
        AssertClose([.. yExpected.Select(v => (float)v)], y, yTolerance, yTolerance, $"y {what}");
        AssertClose([.. dwExpected.Select(v => (float)v)], dw, 1e-4, 1e-4, $"dW {what}");
        AssertClose([.. dxExpected.Select(v => (float)v)], dx, 1e-4, 1e-4, $"dx {what}");
    }

    /// <summary>
    /// Checks dx and every trainable parameter's gradient of <paramref name="layer"/> against central finite
    /// differences of <c>L = Σ r · y</c> (r random), on up to <paramref name="samples"/> random indices each.
    /// </summary>
    public static void CheckGradients(Layer layer, float[] x, Random random, int samples = 24, float step = 1e-2f,
        double relative = 1e-2, double absolute = 2e-3)
    {
        var y = new float[layer.OutputLength];
        var r = Floats(random, layer.OutputLength);
        var dx = new float[x.Length];
        layer.Forward(x, y, training: true);
        layer.Backward(x, y, r, dx);
        var analytic = layer.Parameters.Where(p => p.Trainable).Select(p => p.Gradient.ToArray()).ToArray();

        double Loss()
        {
            layer.Forward(x, y, training: true);
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
                sum += (double)r[i] * y[i];
            return sum;
        }

        void Check(float[] values, float[] gradient, string what)
        {
            for (int s = 0; s < Math.Min(samples, values.Length); s++)
            {
                int i = samples >= values.Length ? s : random.Next(values.Length);
                float saved = values[i];
                values[i] = saved + step;
                double plus = Loss();
                values[i] = saved - step;
                double minus = Loss();
                values[i] = saved;
                double numeric = (plus - minus) / (2.0 * step);
                double bound = relative * Math.Max(Math.Abs(numeric), Math.Abs(gradient[i])) + absolute;
                Assert.True(Math.Abs(numeric - gradient[i]) <= bound,
                    $"{layer.Name} d{what}[{i}]: finite difference {numeric}, backward {gradient[i]}.");
            }
        }

        Check(x, dx, "x");
        var trainable = layer.Parameters.Where(p => p.Trainable).ToArray();
        for (int p = 0; p < trainable.Length; p++)
            Check(trainable[p].Value, analytic[p], trainable[p].Name);
    }

    /// <summary>Bytes the calling thread allocates in <paramref name="action"/> in steady state (after a warm-up call).</summary>
    public static long AllocatedBytes(Action action)
    {
        // The fewest bytes of three calls after the warm-up is the steady state: it keeps one-off first-use costs
        // out. (It was written for the kernels' worker threads, which the first call to get the shared pool used to
        // create; KernelParallel now creates them with the class, docs/kernels.md.)
        action();
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < 3 && fewest != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
