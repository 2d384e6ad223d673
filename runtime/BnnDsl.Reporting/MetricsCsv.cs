// metrics.csv: one row per finished epoch in the run's output directory, rewritten whole after each epoch.
using System.Globalization;
using System.Text;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Reporting;

/// <summary>
/// Writes <c>metrics.csv</c> into <see cref="TrainingRunInfo.OutputDirectory"/>: the header
/// <c>epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,train_images_per_s,eval_images_per_s,seconds</c>
/// and one row per epoch, in invariant culture. Accuracies are fractions (0..1). Epoch, learning rate, losses and
/// accuracies are written in their shortest round-trip form; images per second are rounded to one decimal and
/// seconds to three. NaN and infinities are written as <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>.
/// The file is written at the start of the run and after each epoch, each time whole, through a temporary file and a rename.
/// On resume (<see cref="TrainingRunInfo.FirstEpoch"/> &gt; 1) the rows of earlier epochs already in the file are kept
/// and the rows of the epochs about to be run again are dropped; a fresh run starts an empty file.
/// </summary>
public sealed class MetricsCsv : ITrainingObserver
{
    /// <summary>The file name inside the output directory.</summary>
    public const string FileName = "metrics.csv";

    /// <summary>The header line.</summary>
    public const string Header =
        "epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,train_images_per_s,eval_images_per_s,seconds";

    private readonly List<EpochMetrics> _rows = [];
    private string? _path;

    /// <summary>The file being written, once the run has started.</summary>
    public string? Path => _path;

    /// <summary>Kept earlier rows (on resume) and the epochs finished so far, in file order.</summary>
    public IReadOnlyList<EpochMetrics> Rows => _rows;

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">Resuming, and the existing metrics.csv is not one this class wrote.</exception>
    public void RunStarted(TrainingRunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        _path = System.IO.Path.Combine(run.OutputDirectory, FileName);
        _rows.Clear();
        _rows.AddRange(EarlierEpochs(run));
        Write(_path, _rows);
    }

    /// <inheritdoc/>
    public void BatchDone(BatchProgress progress)
    {
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Called before <see cref="RunStarted"/>.</exception>
    public void EpochDone(EpochMetrics metrics)
    {
        string path = _path ?? throw new InvalidOperationException("MetricsCsv.EpochDone was called before RunStarted; call RunStarted first.");
        _rows.RemoveAll(row => row.Epoch >= metrics.Epoch);
        _rows.Add(metrics);
        Write(path, _rows);
    }

    /// <inheritdoc/>
    public void RunFinished(string? error)
    {
    }

    /// <summary>
    /// The rows of <paramref name="run"/>'s metrics.csv for epochs before <see cref="TrainingRunInfo.FirstEpoch"/>:
    /// empty for a fresh run or when there is no file.
    /// </summary>
    /// <exception cref="InvalidDataException">The file exists but is not a metrics.csv this class wrote.</exception>
    public static IReadOnlyList<EpochMetrics> EarlierEpochs(TrainingRunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        string path = System.IO.Path.Combine(run.OutputDirectory, FileName);
        if (run.FirstEpoch <= 1 || !File.Exists(path))
            return [];
        return Read(path).Where(row => row.Epoch < run.FirstEpoch).ToList();
    }

    /// <summary>Writes <paramref name="rows"/> as a metrics.csv to <paramref name="path"/> (temporary file and rename).</summary>
    public static void Write(string path, IEnumerable<EpochMetrics> rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(rows);
        ReportFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(Format(rows)));
    }

    /// <summary>The text of a metrics.csv holding <paramref name="rows"/>: the header, then one "\n"-ended line per row.</summary>
    public static string Format(IEnumerable<EpochMetrics> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder(Header).Append('\n');
        foreach (EpochMetrics row in rows)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{row.Epoch},{Number(row.LearningRate)},{Number(row.TrainLoss)},{Number(row.TrainAccuracy)},")
                .Append(CultureInfo.InvariantCulture,
                $"{Number(row.TestLoss)},{Number(row.TestAccuracy)},{Number(Round(row.TrainImagesPerSecond, 1))},")
                .Append(CultureInfo.InvariantCulture,
                $"{Number(Round(row.EvalImagesPerSecond, 1))},{Number(Round(row.Seconds, 3))}\n");
        }
        return text.ToString();
    }

    /// <summary>Reads a metrics.csv written by this class.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The header or a row is not what this class writes; the message names the line.</exception>
    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0].Trim() != Header)
            throw new InvalidDataException(
                $"{path}: line 1 is not the metrics.csv header \"{Header}\"; delete the file or restore the one the run wrote.");
        var rows = new List<EpochMetrics>(lines.Length - 1);
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
                continue;
            rows.Add(ParseRow(path, i + 1, lines[i]));
        }
        return rows;
    }

    private static EpochMetrics ParseRow(string path, int lineNumber, string line)
    {
        string[] fields = line.Split(',');
        if (fields.Length != 9)
            throw new InvalidDataException(
                $"{path}: line {lineNumber} has {fields.Length} fields, expected 9; delete the line or the file.");
        if (!int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch) || epoch < 1)
            throw new InvalidDataException(
                $"{path}: line {lineNumber}: epoch \"{fields[0]}\" is not a positive integer; delete the line or the file.");
        var values = new double[8];
        for (int f = 1; f < 9; f++)
        {
            if (!double.TryParse(fields[f], NumberStyles.Float, CultureInfo.InvariantCulture, out values[f - 1]))
                throw new InvalidDataException(
                    $"{path}: line {lineNumber}: field {f + 1} \"{fields[f]}\" is not a number; delete the line or the file.");
        }
        return new EpochMetrics(epoch, values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]);
    }

    private static double Round(double value, int decimals) => double.IsFinite(value) ? Math.Round(value, decimals, MidpointRounding.AwayFromZero) : value;

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
