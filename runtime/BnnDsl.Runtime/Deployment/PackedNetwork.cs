// The base of every generated packed inference class (LeNet.Packed): checks that a packed model is the network's,
// takes its tensors by name, splits calls into chunks and lanes across the cores, and serves Predict / Classify.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Runs a packed model (<c>.bnnx</c>) through code generated for one network: the generated subclass holds the
/// model's decoded tensors (<see cref="PackedModel.StepWeights"/>) and step buffers sized for <see cref="BatchSize"/>
/// samples (a buffer is reused by a later step once every step reading it has run, as in the interpreter), and
/// implements <see cref="RunLane"/> as a flat list of <see cref="PackedOps"/> calls with every shape a literal.
/// This class does what <see cref="InferenceSession"/> does around its steps: calls of more than
/// <see cref="BatchSize"/> samples run in chunks; a chunk with enough samples per core (<see cref="LaneSamples"/> for
/// a small network, down to one for a network of <see cref="InferenceSession.LaneMacs"/> multiply-accumulates per
/// sample or more) is split into contiguous lanes, one per core, each running every step on its samples, a group of
/// them at a time, with single-threaded kernels;
/// a smaller chunk runs as one lane whose kernels use every core. After the first call with a given chunk size
/// (which builds the binary convolutions' plans for it) a call allocates nothing. Not thread-safe: use one
/// instance per thread.
/// </summary>
public abstract unsafe class PackedNetwork
{
    /// <summary>Most samples a lane needs, as in <see cref="InferenceSession.LaneSamples"/>.</summary>
    public const int LaneSamples = InferenceSession.LaneSamples;

    private readonly int[] laneCapacity;
    private readonly int samplesPerLane;

    /// <summary>
    /// Checks that <paramref name="model"/> holds the network <paramref name="spec"/> (source locations aside) with
    /// the plan <paramref name="plan"/> the generator derived at compile time, and sets up the lanes.
    /// </summary>
    /// <exception cref="ModelFileException">The model holds another network, or its plan differs from the compiled one.</exception>
    protected PackedNetwork(PackedModel model, NetworkSpec spec, string plan, int batchSize, KernelPath path, int threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plan);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1; pass the most samples one pass should run at once.");
        if (WithoutLocations(model.Network) != WithoutLocations(spec))
            throw new ModelFileException(model.Source,
                $"it holds the network '{model.Network.Name}' ({model.Network.Input} -> {model.Network.Output}, {model.Network.Layers.Count} layers), "
                + $"not the network '{spec.Name}' ({spec.Input} -> {spec.Output}, {spec.Layers.Count} layers) this class was generated for",
                $"convert a checkpoint of '{spec.Name}' (ModelConverter.Convert or 'bnn convert'), or run this file with the class generated for "
                + $"'{model.Network.Name}' or with PackedModel.CreateSession");
        if (PackedPlan.Text(model.Steps) != plan)
            throw new ModelFileException(model.Source, $"its plan differs from the plan the class generated for '{spec.Name}' was compiled with",
                "build the project with the BnnDsl version that wrote the model, or convert the checkpoint again");
        Model = model;
        BatchSize = batchSize;
        Path = KernelDispatch.Resolve(path);
        Threads = threads;
        int cores = threads <= 0 ? KernelParallel.MaxThreads : Math.Min(threads, KernelParallel.MaxThreads);
        samplesPerLane = (int)Math.Clamp((InferenceSession.LaneMacs + model.MacsPerSample - 1) / Math.Max(1, model.MacsPerSample), 1, LaneSamples);
        int lanes = Math.Max(1, Math.Min(cores, batchSize / samplesPerLane));
        // lane 0 alone runs chunks too small to split (up to the whole batch); split chunks give a lane at most half
        laneCapacity = [.. Enumerable.Range(0, lanes).Select(lane => lane == 0 ? batchSize : (batchSize + 1) / 2)];
    }

    /// <summary>The packed model this instance runs.</summary>
    public PackedModel Model { get; }

    /// <summary>The most samples one pass of the plan runs (more run in chunks).</summary>
    public int BatchSize { get; }

    /// <summary>The kernel path (resolved: never <see cref="KernelPath.Auto"/>).</summary>
    public KernelPath Path { get; }

    /// <summary>Threads for the kernels of a single-lane chunk (0: all cores).</summary>
    public int Threads { get; }

    /// <summary>Lanes a full chunk is split into (1 when <see cref="BatchSize"/> is too small to give two cores a lane each).</summary>
    public int Lanes => laneCapacity.Length;

    /// <summary>The most samples lane <paramref name="lane"/> runs at once: scratch per lane is sized for it.</summary>
    public int LaneCapacity(int lane) => laneCapacity[lane];

    /// <summary>
    /// Writes the logits of <paramref name="count"/> samples (<paramref name="input"/>: exactly count ×
    /// <see cref="PackedModel.InputLength"/> floats, NHWC) to <paramref name="logits"/> (at least count ×
    /// <see cref="PackedModel.OutputLength"/> floats).
    /// </summary>
    public void Predict(ReadOnlySpan<float> input, int count, Span<float> logits)
    {
        CheckInput(input, count);
        int classes = Model.OutputLength;
        if (logits.Length < (long)count * classes)
            throw new ArgumentException(
                $"logits holds {logits.Length} floats but {count} samples of {classes} classes need {(long)count * classes}; pass a larger span.", nameof(logits));
        for (int first = 0; first < count; first += BatchSize)
        {
            int chunk = Math.Min(BatchSize, count - first);
            Run(input.Slice(first * Model.InputLength, chunk * Model.InputLength), chunk);
            Logits.AsSpan(0, chunk * classes).CopyTo(logits.Slice(first * classes, chunk * classes));
        }
    }

    /// <summary>Writes the predicted class (index of the largest logit, the first on ties) of each of <paramref name="count"/> samples.</summary>
    public void Classify(ReadOnlySpan<float> input, int count, Span<int> classes)
    {
        CheckInput(input, count);
        if (classes.Length < count)
            throw new ArgumentException($"classes holds {classes.Length} ints but {count} samples need {count}; pass a larger span.", nameof(classes));
        int outputs = Model.OutputLength;
        for (int first = 0; first < count; first += BatchSize)
        {
            int chunk = Math.Min(BatchSize, count - first);
            Run(input.Slice(first * Model.InputLength, chunk * Model.InputLength), chunk);
            var values = Logits.AsSpan(0, chunk * outputs);
            for (int s = 0; s < chunk; s++)
            {
                var row = values.Slice(s * outputs, outputs);
                int best = 0;
                for (int j = 1; j < outputs; j++)
                    if (row[j] > row[best])
                        best = j;
                classes[first + s] = best;
            }
        }
    }

    /// <summary>The predicted classes of <paramref name="count"/> samples, as a new array.</summary>
    public int[] Classify(ReadOnlySpan<float> input, int count)
    {
        var classes = new int[Math.Max(0, count)];
        Classify(input, count, classes);
        return classes;
    }

    /// <summary>The buffer of the last step: <see cref="BatchSize"/> × <see cref="PackedModel.OutputLength"/> logits.</summary>
    protected abstract float[] Logits { get; }

    /// <summary>
    /// The generated steps, on samples [<paramref name="start"/>, start + <paramref name="count"/>) of the chunk:
    /// <paramref name="input"/> holds those samples only; each step writes its buffer's slice for them.
    /// <paramref name="threads"/> is 1 inside a split chunk, else <see cref="Threads"/>.
    /// </summary>
    protected abstract void RunLane(ReadOnlySpan<float> input, int start, int count, int lane, int threads);

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

    private static NetworkSpec WithoutLocations(NetworkSpec spec) => spec with
    {
        Location = null,
        Layers = new EquatableArray<LayerSpec>([.. spec.Layers.Select(l => l with { Location = null })]),
    };

    private void CheckInput(ReadOnlySpan<float> input, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (input.Length != (long)count * Model.InputLength)
            throw new ArgumentException(
                $"Network '{Model.Network.Name}' takes samples of {Model.Network.Input} (channels x height x width) = {Model.InputLength} floats, NHWC, "
                + $"so {count} samples need {(long)count * Model.InputLength} floats, but the input holds {input.Length}; "
                + "pass exactly count samples of that size.", nameof(input));
    }

    /// <summary>Runs one chunk: as lanes in parallel when it is large enough, else as one lane with parallel kernels.</summary>
    private void Run(ReadOnlySpan<float> input, int count)
    {
        int used = Math.Min(Lanes, count / samplesPerLane);
        if (used <= 1)
        {
            RunLane(input, 0, count, 0, Threads);
            return;
        }
        fixed (float* inputPtr = input)
        {
            var job = new LaneJob { Network = this, Input = inputPtr, Count = count, Lanes = used };
            KernelParallel.For(used, used, ref job);
        }
    }

    /// <summary>
    /// One lane: samples [Count * lane / Lanes, Count * (lane + 1) / Lanes) with single-threaded kernels, in groups
    /// of the samples that make a lane worth a core, so one group's activations stay in the core's cache.
    /// </summary>
    private struct LaneJob : IParallelJob
    {
        public PackedNetwork Network;
        public float* Input;
        public int Count, Lanes;

        public readonly void Run(int lane)
        {
            int start = (int)((long)Count * lane / Lanes), end = (int)((long)Count * (lane + 1) / Lanes);
            int length = Network.Model.InputLength, group = Network.samplesPerLane;
            for (int first = start; first < end; first += group)
            {
                int n = Math.Min(group, end - first);
                Network.RunLane(new ReadOnlySpan<float>(Input + (long)first * length, n * length), first, n, lane, 1);
            }
        }
    }
}
