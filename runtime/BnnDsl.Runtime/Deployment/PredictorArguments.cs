// The argument checks, the class pick and the Predict / Classify chunk loops every packed-model runner shares, so they
// behave and their errors read the same on every device.
namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Checks of <see cref="IPackedPredictor"/> arguments, with the messages callers see, the arg-max of a row of logits,
/// and Predict and Classify over chunks of at most <see cref="IPackedPredictor.BatchSize"/> samples for an <see cref="IChunkRunner"/>.
/// </summary>
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

    /// <summary><see cref="IPackedPredictor.Predict"/>: checks the arguments, then runs chunk after chunk into <paramref name="logits"/>.</summary>
    public static void Predict(IChunkRunner runner, ReadOnlySpan<float> input, int count, Span<float> logits)
    {
        var model = runner.Model;
        CheckInput(model, input, count);
        CheckLogits(model, logits, count);
        int inputs = model.InputLength, classes = model.OutputLength;
        for (int first = 0; first < count; first += runner.BatchSize)
        {
            int chunk = Math.Min(runner.BatchSize, count - first);
            var destination = logits.Slice(first * classes, chunk * classes);
            var values = runner.RunChunk(input.Slice(first * inputs, chunk * inputs), chunk, destination);
            if (values != destination)
                values.CopyTo(destination);
        }
    }

    /// <summary><see cref="IPackedPredictor.Classify(ReadOnlySpan{float}, int, Span{int})"/>: checks the arguments, then runs chunk after chunk and picks each sample's class.</summary>
    public static void Classify(IChunkRunner runner, ReadOnlySpan<float> input, int count, Span<int> classes)
    {
        var model = runner.Model;
        CheckInput(model, input, count);
        CheckClasses(classes, count);
        int inputs = model.InputLength, outputs = model.OutputLength;
        for (int first = 0; first < count; first += runner.BatchSize)
        {
            int chunk = Math.Min(runner.BatchSize, count - first);
            var values = runner.RunChunk(input.Slice(first * inputs, chunk * inputs), chunk, Span<float>.Empty);
            for (int s = 0; s < chunk; s++)
                classes[first + s] = ArgMax(values.Slice(s * outputs, outputs));
        }
    }

    /// <summary><see cref="IPackedPredictor.Classify(ReadOnlySpan{float}, int)"/>: the classes as a new array.</summary>
    public static int[] Classify(IChunkRunner runner, ReadOnlySpan<float> input, int count)
    {
        var classes = new int[Math.Max(0, count)];
        Classify(runner, input, count, classes);
        return classes;
    }
}
