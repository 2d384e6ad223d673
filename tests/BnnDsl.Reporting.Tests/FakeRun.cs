// A scratch output directory and the numbers of a made-up training run, shared by the reporting tests.
using BnnDsl.Runtime.Training;

namespace BnnDsl.Reporting.Tests;

/// <summary>A temporary output directory, deleted on dispose, and a fake run writing into it.</summary>
internal sealed class FakeRun : IDisposable
{
    public FakeRun() => Directory = System.IO.Directory.CreateTempSubdirectory("bnn-reporting-").FullName;

    public string Directory { get; }

    public TrainingRunInfo Info(int firstEpoch = 1, int epochs = 2, int batches = 50) =>
        new("LeNet", firstEpoch, epochs, batches, 128, Directory);

    /// <summary>Made-up but plausible metrics of <paramref name="epoch"/>: loss falls, accuracy rises.</summary>
    public static EpochMetrics Epoch(int epoch) =>
        new(epoch, 0.001 / epoch, 0.5 / epoch, 1 - 0.1 / epoch, 0.4 / epoch, 1 - 0.08 / epoch, 4210.4, 20000, 12.5 + epoch);

    /// <summary>Plays <paramref name="run"/> to <paramref name="observer"/>, reporting every <paramref name="every"/> batches.</summary>
    public static void Play(ITrainingObserver observer, TrainingRunInfo run, int every = 1)
    {
        observer.RunStarted(run);
        for (int epoch = run.FirstEpoch; epoch <= run.Epochs; epoch++)
        {
            for (int batch = every; batch <= run.BatchesPerEpoch; batch += every)
                observer.BatchDone(new BatchProgress(epoch, batch, run.BatchesPerEpoch, 0.5, 0.8, 1234.4));
            if (run.BatchesPerEpoch % every != 0)
                observer.BatchDone(new BatchProgress(epoch, run.BatchesPerEpoch, run.BatchesPerEpoch, 0.5, 0.8, 1234.4));
            observer.EpochDone(Epoch(epoch));
        }
        observer.RunFinished(null);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
