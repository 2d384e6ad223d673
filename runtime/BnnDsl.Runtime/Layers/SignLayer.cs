// The 1-bit activation quantizer: sign forward, straight-through estimator with clip 1 backward.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// 1-bit activation (BinaryNet, Courbariaux et al. 2016): <c>y = sign(x)</c>, +1 for x &gt;= 0 (sign(0) = +1) and
/// -1 otherwise. Backward, straight-through estimator with clip 1: <c>dx = dy</c> where <c>|x| &lt;= 1</c>, else 0.
/// </summary>
public sealed class SignLayer : Layer
{
    /// <summary>Creates the layer for <paramref name="batch"/> samples of <paramref name="length"/> floats.</summary>
    public SignLayer(string name, int batch, int length, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * length, (long)batch * length, path, threads)
    {
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        Elementwise.Sign(x, y, Threads);
    }

    /// <summary>The STE gate; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (!dx.IsEmpty)
            Elementwise.ClipGate(x, dy, dx, Threads);
    }
}
