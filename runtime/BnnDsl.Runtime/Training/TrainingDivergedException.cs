// Thrown when the loss stops being a finite number, naming where the first NaN or infinity appeared.
namespace BnnDsl.Runtime.Training;

/// <summary>
/// The training loss became NaN or infinite, or (checked after each epoch) a parameter did — a latent binary weight
/// can turn NaN without changing the loss, since sign(NaN) is -1. <see cref="Where"/> names the first parameter or
/// layer output affected.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for a step of <paramref name="epoch"/>.</summary>
    public TrainingDivergedException(int epoch, int batch, float loss, string where)
        : base($"Training diverged in epoch {epoch}, batch {batch}: the (mean) loss is {loss} and the first non-finite value is in the {where}. "
            + "Lower the learning rate (--lr), or check the input data for NaN.")
    {
        Epoch = epoch;
        Batch = batch;
        Where = where;
    }

    /// <summary>1-based epoch.</summary>
    public int Epoch { get; }

    /// <summary>1-based batch within the epoch.</summary>
    public int Batch { get; }

    /// <summary>The parameter or layer output where the first non-finite value was found.</summary>
    public string Where { get; }
}
