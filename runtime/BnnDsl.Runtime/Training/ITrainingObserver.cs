// What a training run reports as it goes: the hook the console progress bar, metrics.csv and the plot hang on.
namespace BnnDsl.Runtime.Training;

/// <summary>The fixed facts of a training run, given once before the first batch.</summary>
/// <param name="NetworkName">The network's name.</param>
/// <param name="FirstEpoch">1 for a fresh run, later when resuming.</param>
/// <param name="Epochs">The last epoch to run (1-based, inclusive).</param>
/// <param name="BatchesPerEpoch">Optimizer steps per epoch.</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="OutputDirectory">Where checkpoints, metrics.csv and the plot go.</param>
public sealed record TrainingRunInfo(string NetworkName, int FirstEpoch, int Epochs, int BatchesPerEpoch, int BatchSize, string OutputDirectory);

/// <summary>Progress within an epoch, reported every few batches.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches in this epoch.</param>
/// <param name="Loss">Mean training loss over the batches done in this epoch.</param>
/// <param name="Accuracy">Training accuracy (0..1) over the batches done in this epoch.</param>
/// <param name="ImagesPerSecond">Training throughput in this epoch so far.</param>
public readonly record struct BatchProgress(int Epoch, int Batch, int Batches, double Loss, double Accuracy, double ImagesPerSecond);

/// <summary>One finished epoch: training and test metrics (one row of metrics.csv).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="LearningRate">Learning rate of the epoch's last step.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="TrainAccuracy">Training accuracy (0..1), measured in training mode on the fly.</param>
/// <param name="TestLoss">Mean test loss, evaluation mode.</param>
/// <param name="TestAccuracy">Test accuracy (0..1), evaluation mode.</param>
/// <param name="TrainImagesPerSecond">Training throughput of the epoch (steps only, evaluation excluded).</param>
/// <param name="EvalImagesPerSecond">Evaluation throughput.</param>
/// <param name="Seconds">Wall time of the epoch including evaluation.</param>
public readonly record struct EpochMetrics(int Epoch, double LearningRate, double TrainLoss, double TrainAccuracy,
    double TestLoss, double TestAccuracy, double TrainImagesPerSecond, double EvalImagesPerSecond, double Seconds);

/// <summary>Receives a training run's progress. Calls come from the training thread, in order.</summary>
public interface ITrainingObserver
{
    /// <summary>Before the first step.</summary>
    void RunStarted(TrainingRunInfo run);

    /// <summary>Every few batches and after the last batch of an epoch.</summary>
    void BatchDone(BatchProgress progress);

    /// <summary>After an epoch's evaluation and checkpoints.</summary>
    void EpochDone(EpochMetrics metrics);

    /// <summary>After the last epoch, or when the run stops early (<paramref name="error"/> non-null).</summary>
    void RunFinished(string? error);
}
