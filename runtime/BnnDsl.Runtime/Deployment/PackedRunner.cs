// What the packed interpreter and the generated Packed classes share around their steps: argument checks, chunks of
// at most BatchSize samples, the split of a chunk into per-core lanes, Predict and Classify.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Runs a packed model's steps on batches: a call of more than <see cref="BatchSize"/> samples runs in chunks; a
/// chunk with enough samples is split into contiguous lanes, one per core, each running every step on its samples
/// with single-threaded kernels, a few samples at a time (one parallel dispatch per call, and a group's activations
/// stay in its core's cache); a smaller chunk runs as one lane whose kernels use every core. Subclasses supply the
/// steps (<see cref="RunLane"/>) and the last step's output (<see cref="ChunkLogits"/>). Not thread-safe.
/// </summary>
public abstract unsafe class PackedRunner : IPackedPredictor, IChunkRunner
{
    /// <summary>Most samples a lane needs: below this (for small networks) a chunk runs as one lane with multi-threaded kernels.</summary>
    public const int LaneSamples = 8;

    /// <summary>Multiply-accumulates that make a lane worth its own core (LeNet's 8 samples); bigger networks need fewer samples per lane.</summary>
    public const long LaneMacs = 64_000_000;

    private readonly int[] laneCapacity;
    private readonly int samplesPerLane;

    private protected PackedRunner(PackedModel model, int batchSize, int threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        PredictorArguments.CheckBatchSize(batchSize);
        Model = model;
        BatchSize = batchSize;
        Threads = threads;
        samplesPerLane = (int)Math.Clamp((LaneMacs + model.MacsPerSample - 1) / Math.Max(1, model.MacsPerSample), 1, LaneSamples);
        int cores = threads <= 0 ? KernelParallel.MaxThreads : Math.Min(threads, KernelParallel.MaxThreads);
        int lanes = Math.Max(1, Math.Min(cores, batchSize / samplesPerLane));
        // lane 0 alone runs chunks too small to split (up to the whole batch); split chunks give a lane at most half
        laneCapacity = [.. Enumerable.Range(0, lanes).Select(lane => lane == 0 ? batchSize : (batchSize + 1) / 2)];
    }

    /// <summary>The model this runs.</summary>
    public PackedModel Model { get; }

    /// <summary>The most samples one pass of the steps runs.</summary>
    public int BatchSize { get; }

    /// <summary>The thread count asked for (0: every core).</summary>
    public int Threads { get; }

    /// <summary>Lanes a large chunk splits into (at most one per core).</summary>
    public int Lanes => laneCapacity.Length;

    /// <summary>The most samples lane <paramref name="lane"/> runs at once: what its scratch must hold.</summary>
    public int LaneCapacity(int lane) => laneCapacity[lane];

    /// <summary>
    /// Writes the logits of <paramref name="count"/> samples (<paramref name="input"/>: exactly count ×
    /// <see cref="PackedModel.InputLength"/> floats, NHWC) to <paramref name="logits"/> (at least count ×
    /// <see cref="PackedModel.OutputLength"/> floats).
    /// </summary>
    public void Predict(ReadOnlySpan<float> input, int count, Span<float> logits) => PredictorArguments.Predict(this, input, count, logits);

    /// <summary>Writes the predicted class (index of the largest logit, the first on ties) of each of <paramref name="count"/> samples.</summary>
    public void Classify(ReadOnlySpan<float> input, int count, Span<int> classes) => PredictorArguments.Classify(this, input, count, classes);

    /// <summary>The predicted classes of <paramref name="count"/> samples, as a new array.</summary>
    public int[] Classify(ReadOnlySpan<float> input, int count) => PredictorArguments.Classify(this, input, count);

    /// <inheritdoc/>
    ReadOnlySpan<float> IChunkRunner.RunChunk(ReadOnlySpan<float> input, int count, Span<float> logits)
    {
        Run(input, count);
        return ChunkLogits(count);
    }

    /// <summary>The last step's output for the <paramref name="count"/> samples of the chunk just run, sample after sample.</summary>
    protected abstract ReadOnlySpan<float> ChunkLogits(int count);

    /// <summary>
    /// The steps, on samples [<paramref name="start"/>, start + <paramref name="count"/>) of the chunk:
    /// <paramref name="input"/> holds those samples only; each step writes its buffer's slice for them.
    /// <paramref name="threads"/> is 1 inside a split chunk, else <see cref="Threads"/>.
    /// </summary>
    protected abstract void RunLane(ReadOnlySpan<float> input, int start, int count, int lane, int threads);

    /// <summary>Called before the steps run on a chunk of <paramref name="count"/> samples.</summary>
    private protected virtual void BeginChunk(int count)
    {
    }

    /// <summary>Runs one chunk: as lanes in parallel when it is large enough, else as one lane with parallel kernels.</summary>
    private void Run(ReadOnlySpan<float> input, int count)
    {
        BeginChunk(count);
        int used = Math.Min(Lanes, count / samplesPerLane);
        if (used <= 1)
        {
            RunLane(input, 0, count, 0, Threads);
            return;
        }
        fixed (float* inputPtr = input)
        {
            var job = new LaneJob { Runner = this, Input = inputPtr, Count = count, Lanes = used };
            KernelParallel.For(used, used, ref job);
        }
    }

    /// <summary>
    /// One lane: samples [Count * lane / Lanes, Count * (lane + 1) / Lanes) with single-threaded kernels, in groups of
    /// the samples that make a lane worth a core (8 for LeNet, one ResNet-18 image).
    /// </summary>
    private struct LaneJob : IParallelJob
    {
        public PackedRunner Runner;
        public float* Input;
        public int Count, Lanes;

        public readonly void Run(int lane)
        {
            int start = (int)((long)Count * lane / Lanes), end = (int)((long)Count * (lane + 1) / Lanes);
            int length = Runner.Model.InputLength, group = Runner.samplesPerLane;
            for (int first = start; first < end; first += group)
            {
                int n = Math.Min(group, end - first);
                Runner.RunLane(new ReadOnlySpan<float>(Input + (long)first * length, n * length), first, n, lane, 1);
            }
        }
    }
}
