// MetricsCsv: the exact file text, resume keeping earlier rows, no temporary files left, bad files named.
using BnnDsl.Runtime.Training;

namespace BnnDsl.Reporting.Tests;

public sealed class MetricsCsvTests
{
    private const string Header =
        "epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,train_images_per_s,eval_images_per_s,seconds\n";

    private static string CsvPath(FakeRun run) => Path.Combine(run.Directory, "metrics.csv");

    [Fact]
    public void WritesHeaderAndOneInvariantRowPerEpoch()
    {
        using var run = new FakeRun();
        var csv = new MetricsCsv();
        csv.RunStarted(run.Info(epochs: 2));
        Assert.Equal(Header, File.ReadAllText(CsvPath(run)));

        csv.EpochDone(new EpochMetrics(1, 0.001, 0.5123, 0.8125, 0.25, 0.9, 4210.25, 19999.96, 12.3456));
        Assert.Equal(Header + "1,0.001,0.5123,0.8125,0.25,0.9,4210.3,20000,12.346\n", File.ReadAllText(CsvPath(run)));

        csv.EpochDone(new EpochMetrics(2, 1e-05, 0.125, 0.96875, 0.0625, 0.984375, 5000, 21000.04, 9.9994));
        csv.RunFinished(null);
        Assert.Equal(Header
            + "1,0.001,0.5123,0.8125,0.25,0.9,4210.3,20000,12.346\n"
            + "2,1E-05,0.125,0.96875,0.0625,0.984375,5000,21000,9.999\n", File.ReadAllText(CsvPath(run)));
        Assert.Equal([CsvPath(run)], Directory.GetFiles(run.Directory));
    }

    [Fact]
    public void ResumeKeepsEarlierRowsAndDropsLaterOnes()
    {
        using var run = new FakeRun();
        FakeRun.Play(new MetricsCsv(), run.Info(epochs: 4), every: 25);
        Assert.Equal([1, 2, 3, 4], MetricsCsv.Read(CsvPath(run)).Select(row => row.Epoch));

        var resumed = new MetricsCsv();
        resumed.RunStarted(run.Info(firstEpoch: 3, epochs: 5));
        Assert.Equal([FakeRun.Epoch(1), FakeRun.Epoch(2)], resumed.Rows);
        Assert.Equal([1, 2], MetricsCsv.Read(CsvPath(run)).Select(row => row.Epoch));

        var again = new EpochMetrics(3, 0.5, 0.5, 0.5, 0.5, 0.5, 1, 2, 3);
        resumed.EpochDone(again);
        string[] lines = File.ReadAllLines(CsvPath(run));
        Assert.Equal(4, lines.Length);
        Assert.Equal("3,0.5,0.5,0.5,0.5,0.5,1,2,3", lines[3]);
        Assert.Equal(MetricsCsv.Format([FakeRun.Epoch(1), FakeRun.Epoch(2), again]), File.ReadAllText(CsvPath(run)));
        Assert.Equal([CsvPath(run)], Directory.GetFiles(run.Directory));
    }

    [Fact]
    public void FreshRunAndResumeWithoutFileStartEmpty()
    {
        using var run = new FakeRun();
        FakeRun.Play(new MetricsCsv(), run.Info(epochs: 2), every: 50);
        new MetricsCsv().RunStarted(run.Info(firstEpoch: 1, epochs: 2));
        Assert.Equal(Header, File.ReadAllText(CsvPath(run)));

        File.Delete(CsvPath(run));
        var resumed = new MetricsCsv();
        resumed.RunStarted(run.Info(firstEpoch: 2, epochs: 2));
        Assert.Empty(resumed.Rows);
    }

    [Fact]
    public void ReadsBackWhatItWritesIncludingNaN()
    {
        using var run = new FakeRun();
        var odd = new EpochMetrics(1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0.1 + 0.2,
            double.NaN, double.PositiveInfinity, double.NaN);
        var csv = new MetricsCsv();
        csv.RunStarted(run.Info());
        csv.EpochDone(odd);
        Assert.Equal(Header + "1,NaN,Infinity,-Infinity,NaN,0.30000000000000004,NaN,Infinity,NaN\n", File.ReadAllText(CsvPath(run)));
        Assert.Equal([odd], MetricsCsv.Read(CsvPath(run)));
    }

    [Theory]
    [InlineData("epoch,loss\n1,2\n", "line 1")]
    [InlineData(Header + "1,0.1,0.2\n", "line 2 has 3 fields")]
    [InlineData(Header + "1,0.1,0.2,0.3,0.4,0.5,6,7,8\nx,0.1,0.2,0.3,0.4,0.5,6,7,8\n", "line 3: epoch \"x\"")]
    [InlineData(Header + "1,0.1,0.2,0.3,0.4,abc,6,7,8\n", "field 6 \"abc\"")]
    public void ResumingFromABadFileNamesFileAndLine(string content, string expected)
    {
        using var run = new FakeRun();
        File.WriteAllText(CsvPath(run), content);
        var error = Assert.Throws<InvalidDataException>(() => new MetricsCsv().RunStarted(run.Info(firstEpoch: 2)));
        Assert.Contains(CsvPath(run), error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EpochBeforeRunStartedIsAnInvalidOperation()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new MetricsCsv().EpochDone(FakeRun.Epoch(1)));
        Assert.Contains("RunStarted", error.Message, StringComparison.Ordinal);
    }
}
