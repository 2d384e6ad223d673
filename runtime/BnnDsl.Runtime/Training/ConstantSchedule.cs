// The same learning rate at every step.
namespace BnnDsl.Runtime.Training;

/// <summary>Learning rate <see cref="Rate"/> at every step.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public ConstantSchedule(float lr)
    {
        CheckRate(lr, nameof(lr));
        Rate = lr;
    }

    /// <summary>The learning rate.</summary>
    public float Rate { get; }

    /// <inheritdoc/>
    public override float At(long step, long totalSteps)
    {
        CheckStep(step, totalSteps);
        return Rate;
    }
}
