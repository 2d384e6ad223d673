// Training on generated CIFAR-shaped data (3x32x32, 10 classes): the generated ResNet-18's loss falls within a few Adam
// steps on one batch, and the Trainer, with the CIFAR augmentation (pad-4 random crop, horizontal flip), teaches a
// narrow residual network of the same design the generated set, in a few seconds on two cores.
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Training.Tests;

/// <summary>ResNet-18's design (float stem, Bi-Real binary blocks, a downsampling block with a projection shortcut) at 1/4 width and 3 blocks.</summary>
[Network(3, 32, 32)]
[Convolution(16, 3, Pad = 1)]
[BatchNorm]
[Residual, QActivation(1), QConvolution(16, 3, Pad = 1), BatchNorm, EndResidual]
[Residual, QActivation(1), QConvolution(32, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), Convolution(32, 1), BatchNorm, EndResidual]
[Residual, QActivation(1), QConvolution(32, 3, Pad = 1), BatchNorm, EndResidual]
[GlobalAvgPool]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class NarrowCifarResNet;

public sealed class CifarTrainingTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-cifar-training-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void ResNet18LossFallsWithinAFewSteps()
    {
        const int batch = 8, steps = 6;
        var data = SyntheticImages.Create(batch, 32, 32, 3, 10, seed: 1);
        var input = new float[batch * ResNet18.InputSize];
        data.Images.Normalize(0, batch, input);
        int[] labels = [.. data.Labels.Labels.Select(l => (int)l)];
        var network = new ResNet18(batch);
        network.Initialize(seed: 2);
        var optimizer = new Adam(network.Parameters);

        var losses = new List<float>();
        for (int step = 0; step < steps; step++)
        {
            network.Forward(input, training: true);
            losses.Add(network.Loss(labels));
            network.Backward(input);
            optimizer.Step(3e-3f);
        }
        network.Forward(input, training: true);
        losses.Add(network.Loss(labels));

        Assert.All(losses, loss => Assert.True(float.IsFinite(loss), $"loss {loss}"));
        Assert.True(losses[^1] < 0.5f * losses[0], $"losses {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
    }

    [Fact]
    public void TheTrainerTeachesANarrowResNetTheGeneratedSetWithCropAndFlip()
    {
        var train = SyntheticImages.Create(640, 32, 32, 3, 10, seed: 1);
        var test = SyntheticImages.Create(200, 32, 32, 3, 10, seed: 2);
        var options = new TrainerOptions
        {
            Epochs = 3,
            Seed = 3,
            LearningRate = 3e-3f,
            MaxShift = 4,
            FlipHorizontal = true,
            OutputDirectory = directory,
        };

        var result = new Trainer(new NarrowCifarResNet(32), train, test, options).Run();

        var losses = result.Epochs.Select(e => e.TrainLoss).ToList();
        Assert.True(losses[^1] < 0.75 * losses[0], $"train loss per epoch {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.True(result.BestTestAccuracy > 0.6, $"best test accuracy {result.BestTestAccuracy} (chance is 0.1)");
        var metadata = Runtime.Checkpoints.Checkpoint.ReadMetadata(result.LastCheckpoint);
        Assert.Equal(("4", "true"), (metadata["max_shift"], metadata["flip_horizontal"]));
    }
}
