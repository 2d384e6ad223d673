// Training progress on the console: a live Spectre.Console bar per epoch on a terminal, plain lines when redirected.
using System.Globalization;
using BnnDsl.Runtime.Training;
using Spectre.Console;

namespace BnnDsl.Reporting;

/// <summary>
/// Shows a training run's progress. On an interactive terminal: a live Spectre.Console progress row per epoch
/// (description with epoch, batch i/n, loss, accuracy and images/s; bar; percentage; ETA), cleared when the epoch ends
/// and replaced by the epoch's summary line. Otherwise (output redirected, a writer given, or <c>plain: true</c>) plain lines:
/// one when the run starts, at most one per tenth of an epoch
/// (<c>epoch 3/10  batch 200/468  loss 0.1234  acc 96.10%  4,210 img/s</c>), one summary per epoch
/// (<c>epoch 3/10  train loss 0.1234 acc 96.10%  test loss 0.1100 acc 96.50%  lr 0.001  4,210 img/s  12.3 s</c>)
/// and one when the run ends. Numbers are in invariant culture; NaN and infinities are printed as such, never thrown on.
/// </summary>
public sealed class ConsoleProgress : ITrainingObserver
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private readonly TextWriter? _plain;
    private readonly IAnsiConsole? _console;
    private TrainingRunInfo? _run;
    private int _epoch;
    private int _lastTenth;
    private LiveEpoch? _live;

    /// <summary>
    /// Progress on <paramref name="output"/>. Null: standard output, live when it is a terminal
    /// (<see cref="Console.IsOutputRedirected"/> false) and <paramref name="plain"/> is false, plain lines otherwise.
    /// A writer given here always gets plain lines (it is not a terminal Spectre.Console can drive).
    /// </summary>
    public ConsoleProgress(TextWriter? output = null, bool plain = false)
    {
        if (output is null && !plain && !Console.IsOutputRedirected)
            _console = AnsiConsole.Console;
        else
            _plain = output ?? Console.Out;
    }

    /// <summary>Live progress on <paramref name="console"/> (a Spectre.Console console; see <see cref="AnsiConsole.Create"/>).</summary>
    public ConsoleProgress(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        _console = console;
    }

    /// <summary>True when this shows a live progress bar, false when it writes plain lines.</summary>
    public bool IsLive => _console is not null;

    /// <inheritdoc/>
    public void RunStarted(TrainingRunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        _run = run;
        _epoch = 0;
        string verb = run.FirstEpoch > 1 ? "resuming" : "training";
        WriteLine($"{verb} {run.NetworkName}  epochs {run.FirstEpoch}-{run.Epochs}  "
            + $"{run.BatchesPerEpoch} batches of {run.BatchSize}  output {run.OutputDirectory}");
    }

    /// <inheritdoc/>
    public void BatchDone(BatchProgress progress)
    {
        if (progress.Epoch != _epoch)
        {
            EndLive();
            _epoch = progress.Epoch;
            _lastTenth = 0;
        }
        string text = $"{EpochLabel(progress.Epoch)}  batch {progress.Batch}/{progress.Batches}  loss {Loss(progress.Loss)}  "
            + $"acc {Percent(progress.Accuracy)}  {Rate(progress.ImagesPerSecond)} img/s";
        if (_console is not null)
        {
            _live ??= LiveEpoch.Start(_console, Markup.Escape(text), progress.Batches);
            _live.Update(Markup.Escape(text), progress.Batch, progress.Batches);
            return;
        }
        if (progress.Batches <= 0 || progress.Batch >= progress.Batches)
            return;
        int tenth = (int)(Math.Max(0L, progress.Batch) * 10 / progress.Batches);
        if (tenth > _lastTenth)
        {
            _lastTenth = tenth;
            WriteLine(text);
        }
    }

    /// <inheritdoc/>
    public void EpochDone(EpochMetrics metrics)
    {
        EndLive();
        WriteLine($"{EpochLabel(metrics.Epoch)}  train loss {Loss(metrics.TrainLoss)} acc {Percent(metrics.TrainAccuracy)}  "
            + $"test loss {Loss(metrics.TestLoss)} acc {Percent(metrics.TestAccuracy)}  "
            + $"lr {metrics.LearningRate.ToString("G4", Invariant)}  {Rate(metrics.TrainImagesPerSecond)} img/s  "
            + $"{metrics.Seconds.ToString("F1", Invariant)} s");
    }

    /// <inheritdoc/>
    public void RunFinished(string? error)
    {
        EndLive();
        WriteLine(error is null ? "run finished" : $"run stopped: {error}");
    }

    private string EpochLabel(int epoch) => _run is null ? $"epoch {epoch}" : $"epoch {epoch}/{_run.Epochs}";

    private static string Loss(double value) => value.ToString("F4", Invariant);

    private static string Percent(double fraction) => (fraction * 100).ToString("F2", Invariant) + "%";

    private static string Rate(double value) => value.ToString("N0", Invariant);

    private void WriteLine(string text)
    {
        if (_console is not null)
            _console.WriteLine(text);
        else
            _plain!.WriteLine(text);
    }

    private void EndLive()
    {
        _live?.Stop();
        _live = null;
    }

    /// <summary>One epoch's live progress display, rendered by Spectre.Console on its own task until <see cref="Stop"/>.</summary>
    private sealed class LiveEpoch
    {
        private readonly TaskCompletionSource _finish;
        private readonly ProgressTask _task;
        private readonly Task _display;

        private LiveEpoch(ProgressTask task, Task display, TaskCompletionSource finish)
        {
            _task = task;
            _display = display;
            _finish = finish;
        }

        public static LiveEpoch Start(IAnsiConsole console, string description, int batches)
        {
            var started = new TaskCompletionSource<ProgressTask>(TaskCreationOptions.RunContinuationsAsynchronously);
            var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Progress progress = console.Progress()
                .AutoClear(true)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                    new PercentageColumn(), new RemainingTimeColumn());
            Task display = Task.Run(() => progress.StartAsync(async context =>
            {
                started.SetResult(context.AddTask(description, autoStart: true, maxValue: Math.Max(1, batches)));
                await finish.Task.ConfigureAwait(false);
            }));
            Task.WaitAny(started.Task, display);
            if (display.IsFaulted)
                display.GetAwaiter().GetResult();
            return new LiveEpoch(started.Task.Result, display, finish);
        }

        public void Update(string description, int batch, int batches)
        {
            _task.MaxValue = Math.Max(1, batches);
            _task.Value = Math.Clamp(batch, 0, Math.Max(1, batches));
            _task.Description = description;
        }

        public void Stop()
        {
            _task.Value = _task.MaxValue;
            _finish.TrySetResult();
            _display.GetAwaiter().GetResult();
        }
    }
}
