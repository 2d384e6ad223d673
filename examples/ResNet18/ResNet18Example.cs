// The ResNet18 example: the binary ResNet-18 of resnet18.bnn on CIFAR-10, with the standard CIFAR augmentation.
using BnnDsl.Runtime.Data;

namespace BnnDsl.Examples.ResNet18;

/// <summary>The network, data set and defaults that <see cref="ExampleCommands"/> runs for the ResNet18 program.</summary>
public static class ResNet18Example
{
    /// <summary>
    /// ResNet-18 on CIFAR-10: Adam at 0.001 with a cosine schedule, batch 128, 4-pixel padded random crops and random
    /// horizontal flips; docs/training.md gives the sources of the recipe.
    /// </summary>
    public static ExampleDefinition Definition { get; } = new()
    {
        Name = "ResNet18",
        Spec = ResNet18.Spec,
        Create = (batch, threads) => new ResNet18(batch, threads: threads),
        DataName = "CIFAR-10",
        DataHelp = $"directory with the CIFAR-10 binary files data_batch_1..5.bin and test_batch.bin (default: {CifarDataSet.DefaultDirectory}; from {CifarDataSet.DownloadUrl})",
        LoadData = directory =>
        {
            var cifar = CifarDataSet.Load(directory);
            return (cifar.Train, cifar.Test);
        },
        Defaults = new ExampleOptions
        {
            DataDirectory = CifarDataSet.DefaultDirectory,
            OutputDirectory = Path.Combine("runs", "resnet18"),
            ModelFileName = "resnet18.bnnx",
            Epochs = 100,
            BatchSize = 128,
            LearningRate = 1e-3f,
            MaxShift = 4,
            FlipHorizontal = true,
        },
        RecipeNote = "The recipe (Adam, cosine, pad-4 crop + flip) and its sources: docs/training.md. Without CIFAR-10, try: train --synthetic 512 --epochs 2.",
    };
}
