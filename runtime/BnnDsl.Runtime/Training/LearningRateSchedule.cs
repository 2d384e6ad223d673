// How the learning rate moves over a run, and the parser for the command line's --schedule text.
using System.Globalization;

namespace BnnDsl.Runtime.Training;

/// <summary>
/// The learning rate for each step of a run. <c>step</c> is the 0-based index of the step about to be taken and
/// <c>totalSteps</c> the number of steps the run will take.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate of step <paramref name="step"/> (0-based) in a run of <paramref name="totalSteps"/> steps.</summary>
    public abstract float At(long step, long totalSteps);

    /// <summary>
    /// Parses a schedule as written on a command line, with base rate <paramref name="lr"/>: <c>constant</c>,
    /// <c>cosine</c> (to 0 at the last step, no warmup), or <c>step:STEPS[:GAMMA]</c> (multiply by GAMMA, default 0.1,
    /// every STEPS steps). Names are case-insensitive.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is none of these forms.</exception>
    public static LearningRateSchedule Parse(string text, float lr)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Forms = "write 'constant', 'cosine' or 'step:STEPS[:GAMMA]' (e.g. 'step:1000:0.5')";
        string[] parts = text.Trim().Split(':');
        string name = parts[0].ToLowerInvariant();
        if (name is "constant" or "cosine" && parts.Length == 1)
            return name == "constant" ? new ConstantSchedule(lr) : new CosineSchedule(lr);
        if (name == "step" && parts.Length is 2 or 3)
        {
            if (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long stepSize) || stepSize < 1)
                throw new ArgumentException($"Learning-rate schedule '{text}': STEPS '{parts[1]}' is not a whole number >= 1; {Forms}.", nameof(text));
            float gamma = 0.1f;
            if (parts.Length == 3 && (!float.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out gamma) || !float.IsFinite(gamma) || gamma <= 0))
                throw new ArgumentException($"Learning-rate schedule '{text}': GAMMA '{parts[2]}' is not a number > 0; {Forms}.", nameof(text));
            return new StepSchedule(lr, stepSize, gamma);
        }
        throw new ArgumentException($"Unknown learning-rate schedule '{text}'; {Forms}.", nameof(text));
    }

    /// <summary>Checks a learning rate argument: finite and &gt;= 0.</summary>
    protected static void CheckRate(float rate, string name)
    {
        if (!float.IsFinite(rate) || rate < 0)
            throw new ArgumentOutOfRangeException(name, rate, $"{name} must be a finite value >= 0.");
    }

    /// <summary>Checks the arguments of <see cref="At"/>: 0 &lt;= step and 1 &lt;= totalSteps.</summary>
    protected static void CheckStep(long step, long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
    }
}
