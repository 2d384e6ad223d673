// The training loop: shuffled batches, forward, loss, backward, optimizer step; evaluation, checkpoints and progress
// after every epoch; exact resume from the last checkpoint.
using System.Diagnostics;
using System.Globalization;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Runtime.Training;

/// <summary>What a finished (or stopped) run achieved.</summary>
/// <param name="LastEpoch">The last epoch trained.</param>
/// <param name="Epochs">Every epoch trained in this call, in order.</param>
/// <param name="BestTestAccuracy">Best test accuracy over the whole run, resumed epochs included.</param>
/// <param name="LastCheckpoint">Path of <c>last.safetensors</c>.</param>
/// <param name="BestCheckpoint">Path of <c>best.safetensors</c>.</param>
public sealed record TrainingResult(int LastEpoch, IReadOnlyList<EpochMetrics> Epochs, double BestTestAccuracy, string LastCheckpoint, string BestCheckpoint);

/// <summary>
/// Trains a network with a loss head on labeled images. Each epoch visits the training set in an order drawn from
/// (seed, epoch) alone, drops the last partial batch, then evaluates on the test set and writes
/// <c>last.safetensors</c> (weights, BatchNorm statistics, optimizer state, and the run's settings in the metadata)
/// and, when the test accuracy improves, <c>best.safetensors</c>. A resumed run therefore continues exactly where
/// the checkpoint left off. A training step allocates nothing. Forward, loss, backward and the optimizer step run on
/// the host network unless an <see cref="ITrainingStep"/> is given (e.g. a GPU engine): the Trainer then asks it to sync
/// the parameters and optimizer state to the host before each evaluation and checkpoint.
/// </summary>
public sealed class Trainer
{
    /// <summary>Checkpoint written after every epoch.</summary>
    public const string LastCheckpointName = "last.safetensors";

    /// <summary>Checkpoint of the epoch with the best test accuracy.</summary>
    public const string BestCheckpointName = "best.safetensors";

    private readonly Network network;
    private readonly LabeledImages train;
    private readonly LabeledImages test;
    private readonly TrainerOptions options;
    private readonly ITrainingObserver? observer;
    private readonly ITrainingStep step;

    /// <summary>
    /// Prepares a run; nothing is trained or written until <see cref="Run"/>. <paramref name="step"/> runs the batches
    /// (null: the host network and optimizer).
    /// </summary>
    public Trainer(Network network, LabeledImages train, LabeledImages test, TrainerOptions options, ITrainingObserver? observer = null,
        ITrainingStep? step = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        if (!network.HasLoss)
            throw new ArgumentException($"Network '{network.Definition.Name}' has no loss head; end it with SoftmaxCrossEntropy to train it.", nameof(network));
        if (train.Images.ValuesPerImage != network.InputLength)
            throw new ArgumentException($"The training images have {train.Images.ValuesPerImage} values ({train.Images.Rows}x{train.Images.Columns}x{train.Images.Channels}) but network '{network.Definition.Name}' takes {network.InputLength} floats ({network.Definition.Input}).", nameof(train));
        if (train.Count < network.BatchSize)
            throw new ArgumentException($"The training set has {train.Count} images, fewer than one batch of {network.BatchSize}; use a smaller batch size.", nameof(train));
        if (options.Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, "Epochs must be at least 1.");
        this.network = network;
        this.train = train;
        this.test = test;
        this.options = options;
        this.observer = observer;
        this.step = step ?? new HostTrainingStep();
    }

    /// <summary>Creates the optimizer named by <see cref="TrainerOptions.Optimizer"/>.</summary>
    public static Optimizer CreateOptimizer(Network network, TrainerOptions options) => options.Optimizer.ToLowerInvariant() switch
    {
        "adam" => new Adam(network.Parameters, weightDecay: options.WeightDecay),
        "sgd" => new SgdMomentum(network.Parameters, options.Momentum, options.WeightDecay),
        _ => throw new ArgumentException($"Unknown optimizer '{options.Optimizer}'; use 'adam' or 'sgd'.", nameof(options)),
    };

    /// <summary>Trains from epoch 1, or from the epoch after the last checkpoint when resuming; returns what was achieved.</summary>
    public TrainingResult Run(CancellationToken cancellationToken = default)
    {
        int batch = network.BatchSize, batches = train.Count / batch;
        long totalSteps = (long)options.Epochs * batches;
        var optimizer = CreateOptimizer(network, options);
        var schedule = LearningRateSchedule.Parse(options.Schedule, options.LearningRate);
        Directory.CreateDirectory(options.OutputDirectory);
        string lastPath = Path.Combine(options.OutputDirectory, LastCheckpointName);
        string bestPath = Path.Combine(options.OutputDirectory, BestCheckpointName);
        var saved = SavedTensors(optimizer);

        int firstEpoch = 1;
        double best = -1;
        if (options.Resume && File.Exists(lastPath))
            (firstEpoch, best) = Restore(lastPath, saved);
        else
            network.Initialize(options.Seed);

        int lastEpoch = Math.Min(options.Epochs, options.StopAfterEpoch ?? int.MaxValue);
        var input = new float[batch * network.InputLength];
        var labels = new int[batch];
        var order = new int[train.Count];
        var history = new List<EpochMetrics>();
        var augmentation = new ImageAugmentation(options.MaxShift, options.FlipHorizontal);
        observer?.RunStarted(new TrainingRunInfo(network.Definition.Name, firstEpoch, options.Epochs, batches, batch, options.OutputDirectory));
        try
        {
            step.Begin(network, optimizer);
            for (int epoch = firstEpoch; epoch <= lastEpoch; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                Shuffle(order, options.Seed, epoch);
                var draws = new Random(unchecked(options.Seed * 7_919 + epoch * 104_729 + 1));
                double lossSum = 0;
                long correct = 0;
                float learningRate = 0;
                for (int b = 0; b < batches; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var indices = order.AsSpan(b * batch, batch);
                    train.Images.Normalize(indices, input);
                    if (!augmentation.IsIdentity)
                        augmentation.Apply(input, train.Images.Rows, train.Images.Columns, train.Images.Channels, train.Images.Black, draws);
                    for (int i = 0; i < batch; i++)
                        labels[i] = train.Labels.Labels[indices[i]];
                    learningRate = schedule.At(step.Steps, totalSteps);
                    var result = step.Step(input, labels, learningRate);
                    float loss = result.Loss;
                    if (!float.IsFinite(loss))
                    {
                        step.SyncToHost();
                        throw new TrainingDivergedException(epoch, b + 1, loss, network.FindNonFinite() ?? "logits (they overflow the softmax)");
                    }
                    lossSum += loss;
                    correct += result.Correct;
                    if (observer is not null && ((b + 1) % options.ProgressInterval == 0 || b + 1 == batches))
                        observer.BatchDone(new BatchProgress(epoch, b + 1, batches, lossSum / (b + 1), (double)correct / ((b + 1) * batch),
                            (b + 1) * batch / epochClock.Elapsed.TotalSeconds));
                }
                step.SyncToHost();
                double trainSeconds = epochClock.Elapsed.TotalSeconds;
                if (network.FindNonFinite() is { } damaged)
                    throw new TrainingDivergedException(epoch, batches, (float)(lossSum / batches), damaged);
                var evaluation = Evaluation.Evaluate(network, test);
                bool improved = evaluation.Accuracy > best;
                best = Math.Max(best, evaluation.Accuracy);
                var metadata = Metadata(epoch, best);
                Checkpoint.Save(lastPath, saved, metadata);
                if (improved)
                    Checkpoint.Save(bestPath, saved, metadata);
                var metrics = new EpochMetrics(epoch, learningRate, lossSum / batches, (double)correct / ((long)batches * batch),
                    evaluation.Loss, evaluation.Accuracy, (long)batches * batch / trainSeconds, evaluation.ImagesPerSecond, epochClock.Elapsed.TotalSeconds);
                history.Add(metrics);
                observer?.EpochDone(metrics);
            }
        }
        catch (Exception exception)
        {
            observer?.RunFinished(exception.Message);
            throw;
        }
        finally
        {
            step.End();
        }
        observer?.RunFinished(null);
        return new TrainingResult(history.Count > 0 ? history[^1].Epoch : firstEpoch - 1, history, best, lastPath, bestPath);
    }

    /// <summary>The permutation of the training set for <paramref name="epoch"/>: Fisher–Yates from a generator seeded by (seed, epoch).</summary>
    public static void Shuffle(Span<int> order, int seed, int epoch)
    {
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        var rng = new Random(unchecked(seed * 1_000_003 + epoch));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private List<Parameter> SavedTensors(Optimizer optimizer) => [.. network.Parameters, .. optimizer.State];

    private Dictionary<string, string> Metadata(int epoch, double best) => new()
    {
        ["network"] = NetworkSpecJson.Write(network.Definition),
        ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
        ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
        ["best_test_accuracy"] = best.ToString("R", CultureInfo.InvariantCulture),
        ["batch_size"] = network.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        ["optimizer"] = options.Optimizer,
        ["learning_rate"] = options.LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["schedule"] = options.Schedule,
        ["weight_decay"] = options.WeightDecay.ToString("R", CultureInfo.InvariantCulture),
        ["max_shift"] = options.MaxShift.ToString(CultureInfo.InvariantCulture),
        ["flip_horizontal"] = options.FlipHorizontal ? "true" : "false",
    };

    private (int FirstEpoch, double Best) Restore(string path, List<Parameter> saved)
    {
        var metadata = Checkpoint.ReadMetadata(path);
        string Setting(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new ModelFileException(path, $"the metadata has no '{key}', so it was not written by Trainer", "resume only from a last.safetensors that Trainer wrote");
        if (Setting("network") != NetworkSpecJson.Write(network.Definition))
            throw new ModelFileException(path, $"it holds another network than '{network.Definition.Name}'", "resume with the network that wrote it or use another output directory");
        foreach (var (key, expected) in new[] { ("batch_size", network.BatchSize.ToString(CultureInfo.InvariantCulture)), ("seed", options.Seed.ToString(CultureInfo.InvariantCulture)), ("optimizer", options.Optimizer) })
            if (Setting(key) != expected)
                throw new ModelFileException(path, $"it was trained with {key} {Setting(key)} but this run asks for {expected}", "an exact resume needs the same settings; change them back or use another output directory");
        Checkpoint.Load(path, saved);
        return (int.Parse(Setting("epoch"), CultureInfo.InvariantCulture) + 1, double.Parse(Setting("best_test_accuracy"), CultureInfo.InvariantCulture));
    }
}
