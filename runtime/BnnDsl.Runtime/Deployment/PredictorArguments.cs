// The argument checks and the class pick every packed-model runner shares, so their errors read the same on every device.
namespace BnnDsl.Runtime.Deployment;

/// <summary>Checks of <see cref="IPackedPredictor"/> arguments, with the messages callers see, and the arg-max of a row of logits.</summary>
internal static class PredictorArguments
{
    /// <summary>The batch size a runner is created with: at least 1.</summary>
    public static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1; pass the most samples one call should run at once.");
    }

    /// <summary><paramref name="input"/> holds exactly <paramref name="count"/> samples of the model's input.</summary>
    public static void CheckInput(PackedModel model, ReadOnlySpan<float> input, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (input.Length != (long)count * model.InputLength)
            throw new ArgumentException(
                $"Model '{model.Network.Name}' takes samples of {model.Network.Input} (channels x height x width) = {model.InputLength} floats, NHWC, "
                + $"so {count} samples need {(long)count * model.InputLength} floats, but the input holds {input.Length}; "
                + "pass exactly count samples of that size.", nameof(input));
    }

    /// <summary><paramref name="logits"/> holds at least <paramref name="count"/> samples' logits.</summary>
    public static void CheckLogits(PackedModel model, Span<float> logits, int count)
    {
        int classes = model.OutputLength;
        if (logits.Length < (long)count * classes)
            throw new ArgumentException(
                $"logits holds {logits.Length} floats but {count} samples of {classes} classes need {(long)count * classes}; pass a larger span.", nameof(logits));
    }

    /// <summary><paramref name="classes"/> holds at least <paramref name="count"/> ints.</summary>
    public static void CheckClasses(Span<int> classes, int count)
    {
        if (classes.Length < count)
            throw new ArgumentException($"classes holds {classes.Length} ints but {count} samples need {count}; pass a larger span.", nameof(classes));
    }

    /// <summary>The index of the largest value of <paramref name="row"/>, the first on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best])
                best = j;
        return best;
    }
}
