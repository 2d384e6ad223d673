// Linear warmup, then half a cosine from the base rate down to a floor at the end of the run (SGDR without restarts).
namespace BnnDsl.Runtime.Training;

/// <summary>
/// For step s (0-based) of T, with W warmup steps, base rate lr and floor minLr:
/// <code>
/// s &lt; W:   lr * (s + 1) / W
/// s &gt;= W:  minLr + (lr - minLr) * (1 + cos(pi * p)) / 2,   p = min(1, (s - W) / max(1, T - W))
/// </code>
/// so the first step after warmup runs at lr and step T (one past the last) reaches minLr.
/// </summary>
public sealed class CosineSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public CosineSchedule(float lr, float minLr = 0, long warmupSteps = 0)
    {
        CheckRate(lr, nameof(lr));
        CheckRate(minLr, nameof(minLr));
        if (minLr > lr)
            throw new ArgumentOutOfRangeException(nameof(minLr), minLr, $"minLr must not exceed lr ({lr}).");
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        Rate = lr;
        MinRate = minLr;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The rate after warmup.</summary>
    public float Rate { get; }

    /// <summary>The rate at the end of the run.</summary>
    public float MinRate { get; }

    /// <summary>Steps of linear warmup.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc/>
    public override float At(long step, long totalSteps)
    {
        CheckStep(step, totalSteps);
        if (step < WarmupSteps)
            return (float)((double)Rate * (step + 1) / WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, totalSteps - WarmupSteps));
        return (float)(MinRate + ((double)Rate - MinRate) * (1 + Math.Cos(Math.PI * progress)) / 2);
    }
}
