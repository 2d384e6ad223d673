// CompositeObserver and TrainingReports.Default: every call reaches every observer, in order.
using BnnDsl.Runtime.Training;

namespace BnnDsl.Reporting.Tests;

public sealed class CompositeObserverTests
{
    private sealed class Recorder(string name, List<string> log) : ITrainingObserver
    {
        public void RunStarted(TrainingRunInfo run) => log.Add($"{name} start {run.NetworkName}");
        public void BatchDone(BatchProgress progress) => log.Add($"{name} batch {progress.Batch}");
        public void EpochDone(EpochMetrics metrics) => log.Add($"{name} epoch {metrics.Epoch}");
        public void RunFinished(string? error) => log.Add($"{name} finished {error}");
    }

    [Fact]
    public void ForwardsEveryCallToEachObserverInOrder()
    {
        using var run = new FakeRun();
        var log = new List<string>();
        FakeRun.Play(new CompositeObserver(new Recorder("a", log), new Recorder("b", log)), run.Info(epochs: 1, batches: 2));
        Assert.Equal(["a start LeNet", "b start LeNet", "a batch 1", "b batch 1", "a batch 2", "b batch 2",
            "a epoch 1", "b epoch 1", "a finished ", "b finished "], log);
    }

    [Fact]
    public void NullObserversAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => new CompositeObserver(null!));
        var error = Assert.Throws<ArgumentException>(() => new CompositeObserver(new MetricsCsv(), null!));
        Assert.Contains("observers[1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultReportsWriteConsoleLinesCsvAndPlot()
    {
        using var run = new FakeRun();
        var console = new StringWriter();
        CompositeObserver reports = TrainingReports.Default(console);
        Assert.Collection(reports.Observers,
            o => Assert.False(Assert.IsType<ConsoleProgress>(o).IsLive),
            o => Assert.IsType<MetricsCsv>(o),
            o => Assert.IsType<TrainingPlot>(o));

        FakeRun.Play(reports, run.Info(epochs: 2, batches: 10));
        Assert.Contains("epoch 2/2  train loss", console.ToString(), StringComparison.Ordinal);
        Assert.Equal(["metrics.csv", "training.png"], Directory.GetFiles(run.Directory).Select(Path.GetFileName).Order());
    }
}
