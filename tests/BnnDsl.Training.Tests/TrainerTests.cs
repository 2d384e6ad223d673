// The Trainer on TinyNet: a run is a pure function of its seed, a resumed run equals an uninterrupted one, the
// network learns, divergence names its source, and evaluation does not depend on the batch size.
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Training.Tests;

public sealed class TrainerTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-trainer-").FullName;
    private static readonly Runtime.Data.LabeledImages TrainSet = SyntheticDigits.Create(640, seed: 1);
    private static readonly Runtime.Data.LabeledImages TestSet = SyntheticDigits.Create(200, seed: 2);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private TrainerOptions Options(string name, int epochs = 3) => new()
    {
        Epochs = epochs,
        Seed = 7,
        LearningRate = 0.01f,
        MaxShift = 1,
        OutputDirectory = Path.Combine(directory, name),
    };

    private static (TrainingResult Result, float[][] Weights) Train(TrainerOptions options, int batch = 32)
    {
        var network = new TinyNet(batch);
        var result = new Trainer(network, TrainSet, TestSet, options).Run();
        return (result, [.. network.Parameters.Select(p => p.Value.ToArray())]);
    }

    [Fact]
    public void SameSeedGivesTheSameRunBitForBit()
    {
        var (first, firstWeights) = Train(Options("a"));
        var (second, secondWeights) = Train(Options("b"));

        Assert.Equal(first.Epochs.Select(e => (e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy)),
            second.Epochs.Select(e => (e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy)));
        Assert.Equal(firstWeights, secondWeights);
    }

    [Fact]
    public void TwoPlusTwoEpochsWithAResumeEqualFourEpochs()
    {
        var (straight, straightWeights) = Train(Options("straight", epochs: 4));
        var (stopped, _) = Train(Options("resumed", epochs: 4) with { StopAfterEpoch = 2 });
        var (resumed, resumedWeights) = Train(Options("resumed", epochs: 4) with { Resume = true });

        Assert.Equal(2, stopped.LastEpoch);
        Assert.Equal([3, 4], resumed.Epochs.Select(e => e.Epoch));
        Assert.Equal(straight.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)),
            stopped.Epochs.Concat(resumed.Epochs).Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
        Assert.Equal(straightWeights, resumedWeights);
        Assert.Equal(straight.BestTestAccuracy, resumed.BestTestAccuracy);
    }

    /// <summary>
    /// Trains <paramref name="network"/> for 4 epochs (seed 7) on the synthetic task into <paramref name="outputDirectory"/>:
    /// the train loss must fall by 20% and the best test accuracy pass 0.8.
    /// </summary>
    internal static TrainingResult AssertLearnsTheSyntheticTask(Network network, string outputDirectory)
    {
        var options = new TrainerOptions { Epochs = 4, Seed = 7, LearningRate = 0.01f, MaxShift = 1, OutputDirectory = outputDirectory };
        var result = new Trainer(network, TrainSet, TestSet, options).Run();

        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss * 0.8,
            $"train loss went from {result.Epochs[0].TrainLoss} to {result.Epochs[^1].TrainLoss}");
        Assert.True(result.BestTestAccuracy > 0.8, $"best test accuracy {result.BestTestAccuracy} (chance is 1/3)");
        return result;
    }

    [Fact]
    public void TheNetworkLearnsTheSyntheticTask()
    {
        var result = AssertLearnsTheSyntheticTask(new TinyNet(32), Path.Combine(directory, "learn"));
        Assert.True(File.Exists(result.LastCheckpoint));
        Assert.True(File.Exists(result.BestCheckpoint));
    }

    /// <summary>Trains one epoch, then puts a NaN into <paramref name="parameter"/> of the last checkpoint and resumes.</summary>
    private TrainingDivergedException ResumeWithNaN(string name, string parameter)
    {
        var options = Options(name, epochs: 2) with { StopAfterEpoch = 1 };
        Train(options);
        var network = new TinyNet(32);
        var optimizer = Trainer.CreateOptimizer(network, options);
        List<Runtime.Training.Parameter> saved = [.. network.Parameters, .. optimizer.State];
        string last = Path.Combine(options.OutputDirectory, Trainer.LastCheckpointName);
        var metadata = Checkpoint.ReadMetadata(last).Where(pair => !pair.Key.StartsWith("format", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value);
        Checkpoint.Load(last, saved);
        network.Parameter(parameter).Value[5] = float.NaN;
        Checkpoint.Save(last, saved, metadata);

        return Assert.Throws<TrainingDivergedException>(() => Train(options with { StopAfterEpoch = null, Resume = true }));
    }

    [Fact]
    public void ANaNFloatWeightStopsTheRunAtTheFirstStepAndIsNamed()
    {
        var error = ResumeWithNaN("nan-float", "fc1.weight");

        Assert.Equal(2, error.Epoch);
        Assert.Equal(1, error.Batch);
        Assert.Equal("parameter fc1.weight", error.Where);
    }

    [Fact]
    public void ANaNLatentWeightIsCaughtAtTheEndOfTheEpoch()
    {
        // sign(NaN) is -1, so the loss stays finite; the end-of-epoch check still finds the damaged weight.
        var error = ResumeWithNaN("nan-latent", "qfc1.weight");

        Assert.Equal(2, error.Epoch);
        Assert.Equal("parameter qfc1.weight", error.Where);
    }

    [Fact]
    public void EvaluationDoesNotDependOnTheBatchSize()
    {
        var options = Options("eval", epochs: 1);
        Train(options);
        var byBatch = new[] { 1, 7, 64, 200 }.Select(batch =>
        {
            var network = new TinyNet(batch);
            Checkpoint.Load(Path.Combine(options.OutputDirectory, Trainer.LastCheckpointName), network.Parameters);
            return Evaluation.Evaluate(network, TestSet);
        }).ToList();

        Assert.All(byBatch, r => Assert.Equal(byBatch[0].Correct, r.Correct));
        Assert.All(byBatch, r => Assert.Equal(byBatch[0].Loss, r.Loss, 1e-5));
        Assert.Equal(200, byBatch[0].Count);
    }

    [Fact]
    public void ResumingWithAnotherNetworkIsRefusedWithTheFileNamed()
    {
        var options = Options("other", epochs: 2) with { StopAfterEpoch = 1 };
        Train(options);

        var error = Assert.Throws<ModelFileException>(() => Train(options with { Resume = true }, batch: 16));

        Assert.Contains(Trainer.LastCheckpointName, error.Message);
        Assert.Contains("batch_size", error.Message);
    }

    [Fact]
    public void SaveAndLoadRoundTripEveryParameter()
    {
        var trained = new TinyNet(8);
        trained.Initialize(3);
        trained.Parameter("bn1.running_mean").Value[2] = 0.25f;
        string path = Path.Combine(directory, "tiny.safetensors");
        trained.Save(path);

        var loaded = new TinyNet(16);
        loaded.Load(path);

        Assert.Equal(trained.Parameters.Select(p => p.Value), loaded.Parameters.Select(p => p.Value));
        Assert.Equal(NetworkSpecJson.Write(TinyNet.Spec), Checkpoint.ReadMetadata(path)["network"]);
    }

    [Fact]
    public void LoadingAnotherNetworksCheckpointNamesTheTensor()
    {
        string path = Path.Combine(directory, "lenet.safetensors");
        new GradientLeNet(1).Save(path);

        var error = Assert.Throws<ModelFileException>(() => new TinyNet(1).Load(path));

        Assert.Contains("conv1.weight", error.Message);
    }
}
