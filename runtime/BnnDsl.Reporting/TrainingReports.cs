// The usual set of reports for a training run: console progress, metrics.csv and training.png.
namespace BnnDsl.Reporting;

/// <summary>Ready-made combinations of the reporting observers.</summary>
public static class TrainingReports
{
    /// <summary>
    /// Console progress (<see cref="ConsoleProgress"/>), <see cref="MetricsCsv"/> and <see cref="TrainingPlot"/>, in that order.
    /// </summary>
    /// <param name="console">
    /// Where progress goes. Null: the process's standard output, with a live progress bar when it is a terminal and
    /// plain lines when it is redirected. Any other writer gets plain lines.
    /// </param>
    public static CompositeObserver Default(TextWriter? console = null) =>
        new(new ConsoleProgress(console), new MetricsCsv(), new TrainingPlot());
}
