// One Adam step on the accelerator for one parameter tensor, with the latent-weight clip of binary layers.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// The runtime's <c>Adam</c> update (Kingma and Ba 2015, decoupled weight decay as AdamW) for step t, one thread per
/// element: <c>m = β1·m + (1 − β1)·g</c>, <c>v = β2·v + (1 − β2)·g²</c>,
/// <c>w = w·(1 − lr·decay) − lr·(m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)</c>, then, for latent weights of binary
/// layers (<c>clipToUnit</c>), <c>w = clamp(w, −1, 1)</c> as the CPU optimizer does after each step.
/// The bias corrections are computed on the host in double, as on the CPU. The caller passes decay 0 for biases and
/// scales, as the CPU optimizer does.
/// </summary>
public static class GpuAdam
{
    /// <summary>Updates <paramref name="weights"/>, <paramref name="firstMoment"/> and <paramref name="secondMoment"/> in place.</summary>
    public static void Step(GpuDevice device, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, int count, long step, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f, bool clipToUnit = false)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        GpuChecks.Length(weights, count, nameof(weights), "count");
        GpuChecks.Length(gradients, count, nameof(gradients), "count");
        GpuChecks.Length(firstMoment, count, nameof(firstMoment), "count");
        GpuChecks.Length(secondMoment, count, nameof(secondMoment), "count");
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step, "step is the 1-based number of this step; the first step is 1.");
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learningRate must be a finite value >= 0.");
        if (!(beta1 is >= 0 and < 1) || !(beta2 is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"beta1 ({beta1}) and beta2 ({beta2}) must lie in [0, 1).");
        if (!float.IsFinite(epsilon) || epsilon <= 0)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be a finite value > 0.");
        var settings = new AdamSettings(beta1, beta2, 1f - beta1, 1f - beta2, (float)(1.0 / (1.0 - Math.Pow(beta1, step))),
            (float)(1.0 / (1.0 - Math.Pow(beta2, step))), epsilon, 1f - learningRate * weightDecay, learningRate, clipToUnit ? 1 : 0);
        device.Kernel("adam", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, AdamSettings, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(StepKernel))(
            count, settings, weights, gradients, firstMoment, secondMoment);
    }

    private static void StepKernel(Index1D i, AdamSettings s, ArrayView<float> w, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v)
    {
        float grad = g[i];
        float first = s.Beta1 * m[i] + s.Gain1 * grad;
        float second = s.Beta2 * v[i] + s.Gain2 * (grad * grad);
        m[i] = first;
        v[i] = second;
        float denominator = MathF.Sqrt(second * s.Correction2) + s.Epsilon;
        float value = w[i] * s.Keep - s.LearningRate * (first * s.Correction1) / denominator;
        if (s.ClipToUnit != 0)
            value = IntrinsicMath.Clamp(value, -1f, 1f);
        w[i] = value;
    }

    /// <summary>The scalars of one step.</summary>
    internal readonly record struct AdamSettings(float Beta1, float Beta2, float Gain1, float Gain2, float Correction1, float Correction2,
        float Epsilon, float Keep, float LearningRate, int ClipToUnit);
}
