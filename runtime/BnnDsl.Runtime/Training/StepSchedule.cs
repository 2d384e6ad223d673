// The learning rate multiplied by a constant factor every fixed number of steps.
namespace BnnDsl.Runtime.Training;

/// <summary>For step s (0-based): <c>lr * gamma^floor(s / stepSize)</c>.</summary>
public sealed class StepSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public StepSchedule(float lr, long stepSize, float gamma = 0.1f)
    {
        CheckRate(lr, nameof(lr));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        if (!float.IsFinite(gamma) || gamma <= 0)
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a finite value > 0; 0.1 is the usual value.");
        Rate = lr;
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>The rate of the first stage.</summary>
    public float Rate { get; }

    /// <summary>Steps per stage.</summary>
    public long StepSize { get; }

    /// <summary>Factor applied at each stage boundary.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    public override float At(long step, long totalSteps)
    {
        CheckStep(step, totalSteps);
        return (float)(Rate * Math.Pow(Gamma, step / StepSize));
    }
}
