// The common shape of every layer that generated network code calls: named, sized for one batch, forward and
// backward over float spans, parameters with gradients.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// A layer of a network, built once for a fixed <see cref="Batch"/>: it allocates all its buffers in the
/// constructor, and <see cref="Forward"/> and <see cref="Backward"/> allocate nothing. Tensors are float spans,
/// NHWC per sample, batch-major (<c>[batch][h][w][c]</c>); a dense layer reads the flat per-sample vector.
/// <see cref="Backward"/> must follow a <see cref="Forward"/> of the same input (some layers keep state from it,
/// such as batch statistics or the argmax of a pooling window); it overwrites the gradients of
/// <see cref="Parameters"/> and writes <c>dx</c> (an empty <c>dx</c> skips the input gradient).
/// </summary>
public abstract class Layer
{
    /// <summary>Stores the sizes; checks that they are positive.</summary>
    protected Layer(string name, int batch, long inputLength, long outputLength, KernelPath path, int threads)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (batch <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Layer '{name}': batch must be at least 1.");
        if (inputLength <= 0 || outputLength <= 0)
            throw new ArgumentException(
                $"Layer '{name}': input ({inputLength}) and output ({outputLength}) lengths must be at least 1; check the sizes.", nameof(inputLength));
        if (inputLength > Array.MaxLength || outputLength > Array.MaxLength)
            throw new ArgumentException(
                $"Layer '{name}': input ({inputLength}) or output ({outputLength}) length is larger than an array can hold; use a smaller batch.", nameof(batch));
        Name = name;
        Batch = batch;
        InputLength = (int)inputLength;
        OutputLength = (int)outputLength;
        Path = path;
        Threads = threads;
    }

    /// <summary>The layer's name, the prefix of its parameters' names (e.g. <c>conv1</c>).</summary>
    public string Name { get; }

    /// <summary>Samples per call.</summary>
    public int Batch { get; }

    /// <summary>Floats of input for the whole batch.</summary>
    public int InputLength { get; }

    /// <summary>Floats of output for the whole batch.</summary>
    public int OutputLength { get; }

    /// <summary>The kernel path passed to the kernels (the layers' own element-wise loops use Vector256 on every path).</summary>
    public KernelPath Path { get; }

    /// <summary>Threads passed to the kernels (0: all cores).</summary>
    public int Threads { get; }

    /// <summary>Trainable tensors and state, in a fixed order; empty for a parameterless layer.</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Sets the parameters to their initial values; parameterless layers do nothing.</summary>
    public virtual void Initialize(Random rng) => ArgumentNullException.ThrowIfNull(rng);

    /// <summary>
    /// Computes <paramref name="y"/> (<see cref="OutputLength"/> floats) from <paramref name="x"/>
    /// (<see cref="InputLength"/> floats). <paramref name="training"/> selects batch statistics over running
    /// ones where the layer has them.
    /// </summary>
    public abstract void Forward(ReadOnlySpan<float> x, Span<float> y, bool training);

    /// <summary>
    /// The float reference of an evaluation <see cref="Forward"/>: <c>Forward(x, y, training: false)</c>, except in
    /// the binary and k-bit layers, which override it to compute in float (±1 values or k-bit levels and SGEMM) what
    /// their bit kernels compute, as a float framework simulates them.
    /// </summary>
    public virtual void ForwardReference(ReadOnlySpan<float> x, Span<float> y) => Forward(x, y, training: false);

    /// <summary>
    /// Given the input <paramref name="x"/>, the output <paramref name="y"/> of the last forward pass (layers that
    /// do not read it accept an empty span) and dLoss/dy, overwrites the parameter gradients and writes
    /// dLoss/dx into <paramref name="dx"/> (empty: skip).
    /// </summary>
    public abstract void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>Fills <paramref name="values"/> with uniform draws from [-bound, bound], in order (the weight initializers' one loop).</summary>
    protected static void FillUniform(Span<float> values, float bound, Random rng)
    {
        foreach (ref float value in values)
            value = (rng.NextSingle() * 2f - 1f) * bound;
    }

    /// <summary>Throws unless <paramref name="x"/> and <paramref name="y"/> have this layer's lengths.</summary>
    protected void CheckForward(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLength(x.Length, InputLength, nameof(x));
        CheckLength(y.Length, OutputLength, nameof(y));
    }

    /// <summary>Throws unless <paramref name="x"/> and <paramref name="dy"/> have this layer's lengths and <paramref name="dx"/> is empty or as long as <paramref name="x"/>.</summary>
    protected void CheckBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> dx)
    {
        CheckLength(x.Length, InputLength, nameof(x));
        CheckLength(dy.Length, OutputLength, nameof(dy));
        if (!dx.IsEmpty)
            CheckLength(dx.Length, InputLength, nameof(dx));
    }

    private void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException(
                $"Layer '{Name}': {name} holds {actual} floats but must hold {expected} (batch {Batch}); pass a span of the layer's length.", name);
    }

    /// <summary>Creates the parameter <c>{Name}.{suffix}</c>.</summary>
    protected Parameter NewParameter(string suffix, int[] shape, ParameterRole role, int bits = 32)
        => new($"{Name}.{suffix}", shape, role, bits);
}
