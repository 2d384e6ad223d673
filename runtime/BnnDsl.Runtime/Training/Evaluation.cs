// Runs a network over a whole labeled data set in evaluation mode: mean loss, accuracy and throughput.
using System.Diagnostics;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Runtime.Training;

/// <summary>Loss, accuracy and speed of a network on a data set.</summary>
/// <param name="Loss">Mean softmax cross-entropy.</param>
/// <param name="Accuracy">Fraction of correct top-1 predictions (0..1).</param>
/// <param name="Correct">Correct predictions.</param>
/// <param name="Count">Samples evaluated.</param>
/// <param name="ImagesPerSecond">Throughput, data preparation included.</param>
public readonly record struct EvaluationResult(double Loss, double Accuracy, int Correct, int Count, double ImagesPerSecond);

/// <summary>Evaluation of a network on labeled images.</summary>
public static class Evaluation
{
    /// <summary>
    /// Runs <paramref name="network"/> (evaluation mode: BatchNorm uses running statistics) on every image of
    /// <paramref name="data"/>, batch by batch; a short last batch is padded with zeros and only its real samples count.
    /// </summary>
    public static EvaluationResult Evaluate(Network network, LabeledImages data)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Images.ValuesPerImage != network.InputLength)
            throw new ArgumentException(
                $"The data set has {data.Images.Rows}x{data.Images.Columns}x{data.Images.Channels} images ({data.Images.ValuesPerImage} floats) but network "
                + $"'{network.Definition.Name}' takes {network.InputLength} floats per sample ({network.Definition.Input}).", nameof(data));
        int batch = network.BatchSize, classes = network.OutputLength;
        var input = new float[batch * network.InputLength];
        double lossSum = 0;
        int correct = 0;
        var clock = Stopwatch.StartNew();
        for (int first = 0; first < data.Count; first += batch)
        {
            int n = Math.Min(batch, data.Count - first);
            data.Images.Normalize(first, n, input);
            input.AsSpan(n * network.InputLength).Clear();
            network.Forward(input, training: false);
            var logits = network.Output;
            for (int i = 0; i < n; i++)
            {
                var row = logits.Slice(i * classes, classes);
                int label = data.Labels.Labels[first + i];
                lossSum += CrossEntropy(row, label);
                if (ArgMax(row) == label)
                    correct++;
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        return new EvaluationResult(data.Count == 0 ? 0 : lossSum / data.Count, data.Count == 0 ? 0 : (double)correct / data.Count,
            correct, data.Count, seconds > 0 ? data.Count / seconds : 0);
    }

    /// <summary>Index of the largest value (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best])
                best = i;
        return best;
    }

    private static double CrossEntropy(ReadOnlySpan<float> logits, int label)
    {
        double max = double.NegativeInfinity;
        foreach (float value in logits)
            max = Math.Max(max, value);
        double sum = 0;
        foreach (float value in logits)
            sum += Math.Exp(value - max);
        return Math.Log(sum) + max - logits[label];
    }
}
