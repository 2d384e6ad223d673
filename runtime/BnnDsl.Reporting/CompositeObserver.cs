// Forwards one training run's reports to several observers (console, metrics.csv, plot).
using BnnDsl.Runtime.Training;

namespace BnnDsl.Reporting;

/// <summary>
/// An <see cref="ITrainingObserver"/> that forwards every call to each of its observers, in the order given.
/// An exception from one observer propagates at once; the observers after it do not get that call.
/// </summary>
public sealed class CompositeObserver : ITrainingObserver
{
    private readonly ITrainingObserver[] _observers;

    /// <summary>Forwards to <paramref name="observers"/>, in order.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="observers"/> is null.</exception>
    /// <exception cref="ArgumentException">One of the observers is null.</exception>
    public CompositeObserver(params ITrainingObserver[] observers)
    {
        ArgumentNullException.ThrowIfNull(observers);
        for (int i = 0; i < observers.Length; i++)
        {
            if (observers[i] is null)
                throw new ArgumentException($"observers[{i}] is null; pass only non-null observers.", nameof(observers));
        }
        _observers = (ITrainingObserver[])observers.Clone();
    }

    /// <summary>The observers, in the order calls reach them.</summary>
    public IReadOnlyList<ITrainingObserver> Observers => _observers;

    /// <inheritdoc/>
    public void RunStarted(TrainingRunInfo run)
    {
        foreach (ITrainingObserver observer in _observers)
            observer.RunStarted(run);
    }

    /// <inheritdoc/>
    public void BatchDone(BatchProgress progress)
    {
        foreach (ITrainingObserver observer in _observers)
            observer.BatchDone(progress);
    }

    /// <inheritdoc/>
    public void EpochDone(EpochMetrics metrics)
    {
        foreach (ITrainingObserver observer in _observers)
            observer.EpochDone(metrics);
    }

    /// <inheritdoc/>
    public void RunFinished(string? error)
    {
        foreach (ITrainingObserver observer in _observers)
            observer.RunFinished(error);
    }
}
