// TrainingPlot: a real PNG of the configured size, no temporary files, resume from metrics.csv, odd values.
using System.Buffers.Binary;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Reporting.Tests;

public sealed class TrainingPlotTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Checks the PNG signature and returns width and height from the IHDR chunk, which must come first.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5 * 1024, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8)));
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void WritesAPngOfTheConfiguredSizeAfterEachEpoch()
    {
        using var run = new FakeRun();
        var plot = new TrainingPlot(width: 640, height: 480);
        string png = Path.Combine(run.Directory, "training.png");
        plot.RunStarted(run.Info(epochs: 3));
        Assert.False(File.Exists(png));

        plot.EpochDone(FakeRun.Epoch(1));
        Assert.Equal((640, 480), PngSize(png));
        plot.EpochDone(FakeRun.Epoch(2));
        plot.EpochDone(FakeRun.Epoch(3));
        plot.RunFinished(null);
        Assert.Equal((640, 480), PngSize(png));
        Assert.Equal(png, plot.Path);
        Assert.Equal([png], Directory.GetFiles(run.Directory));
    }

    [Fact]
    public void ResumeReadsEarlierEpochsFromMetricsCsv()
    {
        using var run = new FakeRun();
        FakeRun.Play(new CompositeObserver(new MetricsCsv(), new TrainingPlot()), run.Info(epochs: 4), every: 50);

        var resumed = new TrainingPlot();
        resumed.RunStarted(run.Info(firstEpoch: 3, epochs: 5));
        Assert.Equal([1, 2], resumed.Epochs.Select(e => e.Epoch));
        resumed.EpochDone(FakeRun.Epoch(3));
        Assert.Equal([1, 2, 3], resumed.Epochs.Select(e => e.Epoch));
        Assert.Equal((1000, 800), PngSize(Path.Combine(run.Directory, "training.png")));
    }

    [Fact]
    public void RenderAloneDrawsOddAndEmptyInputs()
    {
        using var run = new FakeRun();
        string path = Path.Combine(run.Directory, "sub", "alone.png");
        EpochMetrics[] epochs =
        [
            new(1, double.NaN, double.NaN, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.NaN, double.NaN),
            FakeRun.Epoch(2),
            new(3, 0.1, 1e300, 0, -5, 2, 0, 0, 0),
        ];
        TrainingPlot.Render(path, "odd [values]", epochs);
        Assert.Equal((1000, 800), PngSize(path));

        TrainingPlot.Render(path, "", [], 300, 200);
        Assert.Equal((300, 200), PngSize(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void BadSizesAreRejectedByName()
    {
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingPlot(width: 0)).ParamName);
        Assert.Equal("height", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingPlot(height: 20000)).ParamName);
    }
}
