// The LeNet example: the binary LeNet on MNIST, with the recipe whose defaults docs/training.md explains.
using BnnDsl.Runtime.Data;

namespace BnnDsl.Examples.LeNet;

/// <summary>The network, data set and defaults that <see cref="ExampleCommands"/> runs for the LeNet program.</summary>
public static class LeNetExample
{
    /// <summary>LeNet on MNIST: 10 epochs of Adam at 0.003 with a cosine schedule, batch 128, random shifts of up to 2 pixels.</summary>
    public static ExampleDefinition Definition { get; } = new()
    {
        Name = "LeNet",
        Spec = LeNet.Spec,
        Create = (batch, threads) => new LeNet(batch, threads: threads),
        DataName = "MNIST",
        DataHelp = "directory with the four MNIST IDX files (default: the cache of scripts/fetch-mnist.sh)",
        LoadData = directory =>
        {
            var mnist = MnistDataSet.Load(directory);
            return (mnist.Train, mnist.Test);
        },
        Defaults = new ExampleOptions
        {
            DataDirectory = MnistDataSet.DefaultDirectory,
            OutputDirectory = Path.Combine("runs", "lenet"),
            ModelFileName = "lenet.bnnx",
            Epochs = 10,
            BatchSize = 128,
            LearningRate = 3e-3f,
            MaxShift = 2,
        },
        RecipeNote = "The defaults come from four 10-epoch runs; see docs/training.md.",
    };
}
