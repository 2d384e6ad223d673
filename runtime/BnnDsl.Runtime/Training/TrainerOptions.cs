// The settings of a training run, with the defaults the examples use.
namespace BnnDsl.Runtime.Training;

/// <summary>How <see cref="Trainer"/> trains: epochs, optimizer, learning rate and schedule, seed, where files go.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (the last epoch, when resuming).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Stop after this epoch even if <see cref="Epochs"/> is larger, as an interrupted run would (null: no early stop).</summary>
    public int? StopAfterEpoch { get; init; }

    /// <summary>Seeds the weights and the shuffling: the same seed on the same machine gives the same run, bit for bit.</summary>
    public int Seed { get; init; } = 1;

    /// <summary><c>adam</c> (default) or <c>sgd</c> (with momentum).</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary><c>cosine</c> (default), <c>step:STEPS[:GAMMA]</c> or <c>constant</c>; see <see cref="LearningRateSchedule.Parse"/>.</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Weight decay on weights (not on biases or BatchNorm parameters).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Momentum of <c>sgd</c>.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Directory of <c>last.safetensors</c>, <c>best.safetensors</c>, <c>metrics.csv</c> and the plot.</summary>
    public string OutputDirectory { get; init; } = "runs";

    /// <summary>Continue from <c>last.safetensors</c> in <see cref="OutputDirectory"/> when it exists.</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Data augmentation: each training image is shifted by a random whole number of pixels in [-MaxShift, MaxShift]
    /// in both directions (border filled with the value of a black pixel), drawn from (seed, epoch). 0: no augmentation.
    /// </summary>
    public int MaxShift { get; init; }

    /// <summary>
    /// Data augmentation: mirror each training image left to right with probability 1/2, drawn from (seed, epoch) after
    /// its shift. With <see cref="MaxShift"/> = 4 this is the standard CIFAR-10 augmentation (see <see cref="Data.ImageAugmentation"/>).
    /// </summary>
    public bool FlipHorizontal { get; init; }

    /// <summary>Report progress every this many batches.</summary>
    public int ProgressInterval { get; init; } = 20;
}
