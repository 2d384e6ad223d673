// Adam with bias correction and AdamW-style decoupled weight decay, vectorized, allocation-free.
using System.Numerics;
using System.Runtime.InteropServices;

namespace BnnDsl.Runtime.Training;

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) with decoupled weight decay as in AdamW (Loshchilov &amp; Hutter, 2019). For step t,
/// gradient g and weight w:
/// <code>
/// m = beta1 * m + (1 - beta1) * g
/// v = beta2 * v + (1 - beta2) * g * g
/// w = w * (1 - lr * weightDecay) - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
/// </code>
/// The decay shrinks the weight directly instead of being added to g, so it is not rescaled by the adaptive
/// denominator; it applies to weights and latent weights only. State: <c>{name}.adam_m</c> and <c>{name}.adam_v</c>
/// per trainable parameter, plus <see cref="Optimizer.StepTensorName"/>. The default optimizer.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _firstMoments;
    private readonly float[][] _secondMoments;

    /// <summary>Creates Adam over <paramref name="parameters"/> with zeroed moments.</summary>
    public Adam(IReadOnlyList<Parameter> parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0)
        : base(parameters, weightDecay)
    {
        if (!(beta1 is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must lie in [0, 1); 0.9 is the usual value.");
        if (!(beta2 is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must lie in [0, 1); 0.999 is the usual value.");
        if (!float.IsFinite(epsilon) || epsilon <= 0)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be a finite value > 0; 1e-8 is the usual value.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _firstMoments = new float[Parameters.Count][];
        _secondMoments = new float[Parameters.Count][];
        for (int i = 0; i < Parameters.Count; i++)
        {
            _firstMoments[i] = AddStateTensor(Parameters[i], "adam_m");
            _secondMoments[i] = AddStateTensor(Parameters[i], "adam_v");
        }
    }

    /// <summary>Decay rate of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay rate of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <inheritdoc/>
    protected override void Update(int index, float[] value, float[] gradient, float learningRate, float weightDecay, long step)
    {
        float beta1 = Beta1, beta2 = Beta2, epsilon = Epsilon;
        float gain1 = 1f - beta1, gain2 = 1f - beta2;
        float correction1 = (float)(1.0 / (1.0 - Math.Pow(beta1, step)));
        float correction2 = (float)(1.0 / (1.0 - Math.Pow(beta2, step)));
        float keep = 1f - learningRate * weightDecay;
        Span<float> w = value, g = gradient, m = _firstMoments[index], v = _secondMoments[index];

        var wv = MemoryMarshal.Cast<float, Vector<float>>(w);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        Vector<float> beta1s = new(beta1), beta2s = new(beta2), gain1s = new(gain1), gain2s = new(gain2);
        Vector<float> correction1s = new(correction1), correction2s = new(correction2), epsilons = new(epsilon);
        Vector<float> keeps = new(keep), rates = new(learningRate);
        for (int i = 0; i < wv.Length; i++)
        {
            var grad = gv[i];
            var first = beta1s * mv[i] + gain1s * grad;
            var second = beta2s * vv[i] + gain2s * (grad * grad);
            mv[i] = first;
            vv[i] = second;
            var denominator = Vector.SquareRoot(second * correction2s) + epsilons;
            wv[i] = wv[i] * keeps - rates * (first * correction1s) / denominator;
        }
        for (int i = wv.Length * Vector<float>.Count; i < w.Length; i++)
        {
            float grad = g[i];
            float first = beta1 * m[i] + gain1 * grad;
            float second = beta2 * v[i] + gain2 * (grad * grad);
            m[i] = first;
            v[i] = second;
            float denominator = MathF.Sqrt(second * correction2) + epsilon;
            w[i] = w[i] * keep - learningRate * (first * correction1) / denominator;
        }
    }
}
