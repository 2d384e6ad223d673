// One SGD-with-momentum step on the accelerator for one parameter tensor, with the latent-weight clip of binary layers.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// The runtime's <c>SgdMomentum</c> update (PyTorch's form, no dampening), one thread per element:
/// <c>g = g + decay·w</c> (coupled L2 decay), <c>b = momentum·b + g</c>,
/// <c>w = w − lr·(nesterov ? g + momentum·b : b)</c>, then, for latent weights of binary layers (<c>clipToUnit</c>),
/// <c>w = clamp(w, −1, 1)</c> as the CPU optimizer does after each step. The caller passes decay 0 for biases and
/// scales, as the CPU optimizer does. The operations and their order are the CPU's, so the CPU accelerator agrees bit
/// for bit; on CUDA ptxas may contract a product and a sum into one FMA.
/// </summary>
public static class GpuSgd
{
    /// <summary>Updates <paramref name="weights"/> and <paramref name="momentumBuffer"/> in place.</summary>
    public static void Step(GpuDevice device, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> momentumBuffer,
        int count, float learningRate, float momentum = 0.9f, float weightDecay = 0f, bool nesterov = false, bool clipToUnit = false)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        GpuChecks.Length(weights, count, nameof(weights), "count");
        GpuChecks.Length(gradients, count, nameof(gradients), "count");
        GpuChecks.Length(momentumBuffer, count, nameof(momentumBuffer), "count");
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learningRate must be a finite value >= 0.");
        if (!(momentum is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1); 0.9 is the usual value, 0 is plain SGD.");
        if (!float.IsFinite(weightDecay) || weightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be a finite value >= 0; pass 0 to turn decay off.");
        var settings = new SgdSettings(learningRate, momentum, weightDecay, nesterov ? 1 : 0, clipToUnit ? 1 : 0);
        device.Kernel("sgd", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, SgdSettings, ArrayView<float>, ArrayView<float>, ArrayView<float>>(StepKernel))(
            count, settings, weights, gradients, momentumBuffer);
    }

    private static void StepKernel(Index1D i, SgdSettings s, ArrayView<float> w, ArrayView<float> g, ArrayView<float> b)
    {
        float weight = w[i];
        float grad = g[i] + s.WeightDecay * weight;
        float buffer = s.Momentum * b[i] + grad;
        b[i] = buffer;
        float update = s.Nesterov != 0 ? grad + s.Momentum * buffer : buffer;
        float value = weight - s.LearningRate * update;
        if (s.ClipToUnit != 0)
            value = IntrinsicMath.Clamp(value, -1f, 1f);
        w[i] = value;
    }

    /// <summary>The scalars of one step.</summary>
    internal readonly record struct SgdSettings(float LearningRate, float Momentum, float WeightDecay, int Nesterov, int ClipToUnit);
}
