// Stochastic gradient descent with (optionally Nesterov) momentum and coupled L2 weight decay, vectorized, allocation-free.
using System.Numerics;
using System.Runtime.InteropServices;

namespace BnnDsl.Runtime.Training;

/// <summary>
/// SGD with momentum, in the form PyTorch uses (no dampening). For gradient g, weight w and momentum buffer b
/// (zero at the start):
/// <code>
/// g = g + weightDecay * w          (coupled L2 decay; weights and latent weights only)
/// b = momentum * b + g
/// w = w - lr * (nesterov ? g + momentum * b : b)
/// </code>
/// State: <c>{name}.sgd_momentum</c> per trainable parameter, plus <see cref="Optimizer.StepTensorName"/>.
/// </summary>
public sealed class SgdMomentum : Optimizer
{
    private readonly float[][] _buffers;

    /// <summary>Creates the optimizer over <paramref name="parameters"/> with zeroed momentum buffers.</summary>
    public SgdMomentum(IReadOnlyList<Parameter> parameters, float momentum = 0.9f, float weightDecay = 0, bool nesterov = false)
        : base(parameters, weightDecay)
    {
        if (!(momentum is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1); 0.9 is the usual value, 0 is plain SGD.");
        Momentum = momentum;
        Nesterov = nesterov;
        _buffers = new float[Parameters.Count][];
        for (int i = 0; i < Parameters.Count; i++)
            _buffers[i] = AddStateTensor(Parameters[i], "sgd_momentum");
    }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Whether the Nesterov form is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(int index, float[] value, float[] gradient, float learningRate, float weightDecay, long step)
    {
        float momentum = Momentum;
        bool nesterov = Nesterov;
        Span<float> w = value, g = gradient, b = _buffers[index];

        var wv = MemoryMarshal.Cast<float, Vector<float>>(w);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var bv = MemoryMarshal.Cast<float, Vector<float>>(b);
        Vector<float> decays = new(weightDecay), momentums = new(momentum), rates = new(learningRate);
        for (int i = 0; i < wv.Length; i++)
        {
            var grad = gv[i] + decays * wv[i];
            var buffer = momentums * bv[i] + grad;
            bv[i] = buffer;
            var update = nesterov ? grad + momentums * buffer : buffer;
            wv[i] = wv[i] - rates * update;
        }
        for (int i = wv.Length * Vector<float>.Count; i < w.Length; i++)
        {
            float grad = g[i] + weightDecay * w[i];
            float buffer = momentum * b[i] + grad;
            b[i] = buffer;
            float update = nesterov ? grad + momentum * buffer : buffer;
            w[i] = w[i] - learningRate * update;
        }
    }
}
