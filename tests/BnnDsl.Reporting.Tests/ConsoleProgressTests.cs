// ConsoleProgress: the plain lines a redirected run prints, odd values, and the live display on an interactive console.
using BnnDsl.Runtime.Training;
using Spectre.Console;

namespace BnnDsl.Reporting.Tests;

public sealed class ConsoleProgressTests
{
    private static string[] PlainLines(Action<ConsoleProgress> play)
    {
        var output = new StringWriter { NewLine = "\n" };
        var progress = new ConsoleProgress(output, plain: true);
        Assert.False(progress.IsLive);
        play(progress);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void PlainModeWritesOneLinePerTenthAndOneSummaryPerEpoch()
    {
        using var run = new FakeRun();
        string[] lines = PlainLines(p => FakeRun.Play(p, run.Info(epochs: 2, batches: 50)));

        // start + 2 × (9 progress lines at batches 5, 10, …, 45 + 1 summary) + finish.
        Assert.Equal(22, lines.Length);
        Assert.Equal($"training LeNet  epochs 1-2  50 batches of 128  output {run.Directory}", lines[0]);
        Assert.Equal("epoch 1/2  batch 5/50  loss 0.5000  acc 80.00%  1,234 img/s", lines[1]);
        Assert.Equal("epoch 1/2  batch 45/50  loss 0.5000  acc 80.00%  1,234 img/s", lines[9]);
        Assert.Equal("epoch 1/2  train loss 0.5000 acc 90.00%  test loss 0.4000 acc 92.00%  lr 0.001  4,210 img/s  13.5 s", lines[10]);
        Assert.Equal("epoch 2/2  batch 5/50  loss 0.5000  acc 80.00%  1,234 img/s", lines[11]);
        Assert.Equal("epoch 2/2  train loss 0.2500 acc 95.00%  test loss 0.2000 acc 96.00%  lr 0.0005  4,210 img/s  14.5 s", lines[20]);
        Assert.Equal("run finished", lines[21]);
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            string[] progress = lines.Where(l => l.StartsWith($"epoch {epoch}/2  batch ", StringComparison.Ordinal)).ToArray();
            Assert.Equal(Enumerable.Range(1, 9).Select(k => $"batch {5 * k}/50").ToArray(),
                progress.Select(l => l.Split("  ")[1]).ToArray());
        }
    }

    [Fact]
    public void SparseReportsGiveAtMostOneLinePerTenth()
    {
        using var run = new FakeRun();
        string[] every7 = PlainLines(p => FakeRun.Play(p, run.Info(epochs: 1, batches: 50), every: 7));
        string[] batches = every7.Where(l => l.Contains(" batch ", StringComparison.Ordinal)).Select(l => l.Split("  ")[1]).ToArray();
        Assert.Equal(["batch 7/50", "batch 14/50", "batch 21/50", "batch 28/50", "batch 35/50", "batch 42/50", "batch 49/50"], batches);

        string[] small = PlainLines(p => FakeRun.Play(p, run.Info(epochs: 1, batches: 3)));
        Assert.Equal(["batch 1/3", "batch 2/3"],
            small.Where(l => l.Contains(" batch ", StringComparison.Ordinal)).Select(l => l.Split("  ")[1]).ToArray());
    }

    [Fact]
    public void ResumeAndErrorAreSaid()
    {
        using var run = new FakeRun();
        string[] lines = PlainLines(p =>
        {
            p.RunStarted(run.Info(firstEpoch: 3, epochs: 5));
            p.RunFinished("out of memory");
        });
        Assert.Equal([$"resuming LeNet  epochs 3-5  50 batches of 128  output {run.Directory}", "run stopped: out of memory"], lines);
    }

    [Fact]
    public void OddValuesArePrintedNotThrown()
    {
        using var run = new FakeRun();
        string[] lines = PlainLines(p =>
        {
            p.BatchDone(new BatchProgress(1, 1, 2, double.NaN, double.NaN, double.NaN));
            p.RunStarted(run.Info(batches: 0));
            p.BatchDone(new BatchProgress(1, 5, 0, double.PositiveInfinity, -1, double.NegativeInfinity));
            p.BatchDone(new BatchProgress(1, -3, 10, 1, 1, 1));
            p.BatchDone(new BatchProgress(1, int.MaxValue, int.MaxValue - 1, 1, 1, 1));
            p.EpochDone(new EpochMetrics(1, double.NaN, double.NaN, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
                double.NaN, double.NaN, double.NaN));
            p.RunFinished(null);
        });
        Assert.Equal("epoch 1  batch 1/2  loss NaN  acc NaN%  NaN img/s", lines[0]);
        Assert.Equal("epoch 1/2  train loss NaN acc NaN%  test loss Infinity acc -Infinity%  lr NaN  NaN img/s  NaN s", lines[2]);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public void LiveModeDrawsOnAnInteractiveConsoleAndLeavesTheSummaries()
    {
        using var run = new FakeRun();
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(output),
        });
        var progress = new ConsoleProgress(console);
        Assert.True(progress.IsLive);
        FakeRun.Play(progress, run.Info(epochs: 2, batches: 50), every: 10);
        progress.BatchDone(new BatchProgress(3, 1, 2, double.NaN, double.NaN, double.NaN));
        progress.RunFinished("stopped [early]");

        string text = output.ToString();
        Assert.Contains("epoch 1/2  train loss 0.5000 acc 90.00%", text, StringComparison.Ordinal);
        Assert.Contains("epoch 2/2  train loss 0.2500 acc 95.00%", text, StringComparison.Ordinal);
        Assert.Contains("run stopped: stopped [early]", text, StringComparison.Ordinal);
    }
}
