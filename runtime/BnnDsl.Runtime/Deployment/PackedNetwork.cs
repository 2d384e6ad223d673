// The base of every generated packed inference class (LeNet.Packed): checks that a packed model is the network's,
// and hands the decoded tensors to the generated steps; chunks, lanes, Predict and Classify come from PackedRunner.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Runs a packed model (<c>.bnnx</c>) through code generated for one network: the generated subclass holds the
/// model's decoded tensors (<see cref="PackedModel.StepWeights"/>) and step buffers sized for <see cref="PackedRunner.BatchSize"/>
/// samples (a buffer is reused by a later step once every step reading it has run, as in the interpreter), and
/// implements <see cref="PackedRunner.RunLane"/> as a flat list of <see cref="PackedOps"/> calls with every shape a literal.
/// Chunks, lanes, <see cref="PackedRunner.Predict"/> and <see cref="PackedRunner.Classify(ReadOnlySpan{float}, int, Span{int})"/>
/// work as in the interpreter (<see cref="PackedRunner"/>). After the first call with a given chunk size (which
/// builds the binary convolutions' plans for it) a call allocates nothing. Not thread-safe: use one instance per
/// thread.
/// </summary>
public abstract class PackedNetwork : PackedRunner
{
    /// <summary>
    /// Checks that <paramref name="model"/> holds the network <paramref name="spec"/> (source locations aside) with
    /// the plan <paramref name="plan"/> the generator derived at compile time, and sets up the lanes.
    /// </summary>
    /// <exception cref="ModelFileException">The model holds another network, or its plan differs from the compiled one.</exception>
    protected PackedNetwork(PackedModel model, NetworkSpec spec, string plan, int batchSize, KernelPath path, int threads)
        : base(model, batchSize, threads)
    {
        CheckModel(model, spec, plan);
        Path = KernelDispatch.Resolve(path);
    }

    /// <summary>The kernel path (resolved: never <see cref="KernelPath.Auto"/>).</summary>
    public KernelPath Path { get; }

    /// <summary>The buffer of the last step: <see cref="PackedRunner.BatchSize"/> × <see cref="PackedModel.OutputLength"/> logits.</summary>
    protected abstract float[] Logits { get; }

    /// <inheritdoc/>
    protected sealed override ReadOnlySpan<float> ChunkLogits(int count) => Logits.AsSpan(0, count * Model.OutputLength);

    /// <summary>
    /// The tensors of plan step <paramref name="step"/> as the model decoded them on load (see
    /// <see cref="PackedModel.StepWeights"/>): the generated class runs the very weights the interpreter runs.
    /// </summary>
    protected PackedStepWeights StepWeights(int step) => Model.StepWeights(step);

    /// <summary>
    /// Samples [<paramref name="start"/>, start + <paramref name="count"/>) of a step buffer whose samples lie
    /// <paramref name="stride"/> elements apart (steps of different sizes share a buffer once their readers have
    /// run), <paramref name="perSample"/> elements each.
    /// </summary>
    protected static Span<T> Slice<T>(T[] buffer, int start, int count, int stride, int perSample) => buffer.AsSpan(start * stride, count * perSample);

    /// <summary>
    /// Checks that <paramref name="model"/> holds the network <paramref name="spec"/> (source locations aside) with the
    /// plan <paramref name="plan"/> a generated class was compiled with (also for the generated device classes).
    /// </summary>
    /// <exception cref="ModelFileException">The model holds another network, or its plan differs from the compiled one.</exception>
    internal static void CheckModel(PackedModel model, NetworkSpec spec, string plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plan);
        if (WithoutLocations(model.Network) != WithoutLocations(spec))
            throw new ModelFileException(model.Source,
                $"it holds the network '{model.Network.Name}' ({model.Network.Input} -> {model.Network.Output}, {model.Network.Layers.Count} layers), "
                + $"not the network '{spec.Name}' ({spec.Input} -> {spec.Output}, {spec.Layers.Count} layers) this class was generated for",
                $"convert a checkpoint of '{spec.Name}' (ModelConverter.Convert or 'bnn convert'), or run this file with the class generated for "
                + $"'{model.Network.Name}' or with PackedModel.CreateSession");
        if (PackedPlan.Text(model.Steps) != plan)
            throw new ModelFileException(model.Source, $"its plan differs from the plan the class generated for '{spec.Name}' was compiled with",
                "build the project with the BnnDsl version that wrote the model, or convert the checkpoint again");
    }

    private static NetworkSpec WithoutLocations(NetworkSpec spec) => spec with
    {
        Location = null,
        Layers = new EquatableArray<LayerSpec>([.. spec.Layers.Select(l => l with { Location = null })]),
    };
}
