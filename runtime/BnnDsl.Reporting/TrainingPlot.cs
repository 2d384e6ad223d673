// training.png: loss and accuracy per epoch, drawn with ScottPlot next to the checkpoint after every epoch.
using BnnDsl.Runtime.Training;
using ScottPlot;

namespace BnnDsl.Reporting;

/// <summary>
/// Draws <c>training.png</c> into <see cref="TrainingRunInfo.OutputDirectory"/> after each epoch: two panels with the same
/// epoch axis, loss (train, test) above and accuracy in percent (train, test) below, titled with the network's name.
/// On resume (<see cref="TrainingRunInfo.FirstEpoch"/> &gt; 1) the earlier epochs are read back from <c>metrics.csv</c>
/// in the same directory (<see cref="MetricsCsv.EarlierEpochs"/>), so the plot shows the whole run; without that file it
/// starts at <see cref="TrainingRunInfo.FirstEpoch"/>. Points that are NaN or infinite are left out of the lines.
/// </summary>
public sealed class TrainingPlot : ITrainingObserver
{
    /// <summary>The file name inside the output directory.</summary>
    public const string FileName = "training.png";

    /// <summary>Width kept for each panel's y axis, so the two panels' epoch axes line up.</summary>
    private const float LeftAxisPixels = 80;

    private readonly List<EpochMetrics> _epochs = [];
    private TrainingRunInfo? _run;

    /// <summary>Draws images of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 100 pixels or above 10000.</exception>
    public TrainingPlot(int width = 1000, int height = 800)
    {
        CheckSize(width, height);
        Width = width;
        Height = height;
    }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>The file drawn after each epoch, once the run has started.</summary>
    public string? Path => _run is null ? null : System.IO.Path.Combine(_run.OutputDirectory, FileName);

    /// <summary>The epochs the plot shows: earlier ones read back on resume, then those finished in this run.</summary>
    public IReadOnlyList<EpochMetrics> Epochs => _epochs;

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">Resuming, and the existing metrics.csv is not one <see cref="MetricsCsv"/> wrote.</exception>
    public void RunStarted(TrainingRunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        _run = run;
        _epochs.Clear();
        _epochs.AddRange(MetricsCsv.EarlierEpochs(run));
    }

    /// <inheritdoc/>
    public void BatchDone(BatchProgress progress)
    {
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Called before <see cref="RunStarted"/>.</exception>
    public void EpochDone(EpochMetrics metrics)
    {
        TrainingRunInfo run = _run ?? throw new InvalidOperationException("TrainingPlot.EpochDone was called before RunStarted; call RunStarted first.");
        _epochs.RemoveAll(epoch => epoch.Epoch >= metrics.Epoch);
        _epochs.Add(metrics);
        Render(System.IO.Path.Combine(run.OutputDirectory, FileName), run.NetworkName, _epochs, Width, Height);
    }

    /// <inheritdoc/>
    public void RunFinished(string? error)
    {
    }

    /// <summary>
    /// Draws <paramref name="epochs"/> as a PNG at <paramref name="path"/> (temporary file and rename): loss above,
    /// accuracy in percent below, <paramref name="title"/> on top. No epochs gives empty panels.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 100 pixels or above 10000.</exception>
    public static void Render(string path, string title, IReadOnlyList<EpochMetrics> epochs, int width = 1000, int height = 800)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(epochs);
        CheckSize(width, height);

        var figure = new Multiplot();
        figure.AddPlots(2);
        Plot loss = figure.GetPlot(0);
        Plot accuracy = figure.GetPlot(1);

        AddSeries(loss, epochs, e => e.TrainLoss, "train", Colors.C0);
        AddSeries(loss, epochs, e => e.TestLoss, "test", Colors.C1);
        loss.Title(title);
        loss.XLabel("epoch");
        loss.YLabel("loss");

        AddSeries(accuracy, epochs, e => e.TrainAccuracy * 100, "train", Colors.C0);
        AddSeries(accuracy, epochs, e => e.TestAccuracy * 100, "test", Colors.C1);
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy (%)");

        loss.ShowLegend(Alignment.UpperRight);
        accuracy.ShowLegend(Alignment.LowerRight);
        foreach (Plot plot in new[] { loss, accuracy })
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Axes.Left.MinimumSize = LeftAxisPixels;
            if (epochs.Count > 0)
                plot.Axes.SetLimitsX(epochs.Min(e => e.Epoch) - 0.5, epochs.Max(e => e.Epoch) + 0.5);
        }

        byte[] png = figure.Render(width, height).GetImageBytes(ImageFormat.Png, 100);
        ReportFile.WriteAllBytes(path, png);
    }

    private static void AddSeries(Plot plot, IReadOnlyList<EpochMetrics> epochs, Func<EpochMetrics, double> value,
        string label, Color color)
    {
        var xs = new List<double>(epochs.Count);
        var ys = new List<double>(epochs.Count);
        foreach (EpochMetrics epoch in epochs)
        {
            double y = value(epoch);
            if (!double.IsFinite(y))
                continue;
            xs.Add(epoch.Epoch);
            ys.Add(y);
        }
        var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), color);
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 6;
    }

    private static void CheckSize(int width, int height)
    {
        if (width is < 100 or > 10000)
            throw new ArgumentOutOfRangeException(nameof(width), width, "The plot width must be 100..10000 pixels.");
        if (height is < 100 or > 10000)
            throw new ArgumentOutOfRangeException(nameof(height), height, "The plot height must be 100..10000 pixels.");
    }
}
