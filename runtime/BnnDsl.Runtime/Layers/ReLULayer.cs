// The rectified linear activation and its backward.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary><c>y = max(x, 0)</c>; backward <c>dx = dy</c> where <c>x &gt; 0</c>, else 0.</summary>
public sealed class ReLULayer : Layer
{
    /// <summary>Creates the layer for <paramref name="batch"/> samples of <paramref name="length"/> floats.</summary>
    public ReLULayer(string name, int batch, int length, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * length, (long)batch * length, path, threads)
    {
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        Elementwise.Relu(x, y, Threads);
    }

    /// <summary>Passes dy where x is positive; <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        if (!dx.IsEmpty)
            Elementwise.ReluGate(x, dy, dx, Threads);
    }
}
