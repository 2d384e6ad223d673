// The classification loss of a training step: softmax of the logits and the mean cross-entropy against labels.
namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <c>loss = -(1 / batch) Σ_b log softmax(logits[b])[label[b]]</c>, computed stably as
/// <c>logsumexp(z) - z[label]</c> with the row maximum subtracted. <see cref="Forward"/> keeps the probabilities;
/// <see cref="Backward"/> writes <c>dLogits = (p - onehot(label)) / batch</c>. Sized once for a batch; allocates
/// nothing per call.
/// </summary>
public sealed class SoftmaxCrossEntropy
{
    private readonly float[] probabilities;
    private readonly int[] labels;

    /// <summary>Creates the loss for <paramref name="batch"/> rows of <paramref name="classes"/> logits.</summary>
    public SoftmaxCrossEntropy(int batch, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if ((long)batch * classes > Array.MaxLength)
            throw new ArgumentException($"batch × classes ({(long)batch * classes}) is larger than an array can hold; use a smaller batch.", nameof(batch));
        Batch = batch;
        Classes = classes;
        probabilities = new float[batch * classes];
        labels = new int[batch];
    }

    /// <summary>Rows per call.</summary>
    public int Batch { get; }

    /// <summary>Logits per row.</summary>
    public int Classes { get; }

    /// <summary>Rows of the last <see cref="Forward"/> whose largest logit (the first, on ties) is the label.</summary>
    public int Correct { get; private set; }

    /// <summary>Softmax probabilities of the last <see cref="Forward"/>, [batch][classes].</summary>
    public ReadOnlySpan<float> Probabilities => probabilities;

    /// <summary>Returns the mean loss over the batch and keeps the probabilities and labels for <see cref="Backward"/>.</summary>
    public float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        if (logits.Length != probabilities.Length)
            throw new ArgumentException($"logits holds {logits.Length} floats but must hold batch × classes = {probabilities.Length}.", nameof(logits));
        if (labels.Length != Batch)
            throw new ArgumentException($"labels holds {labels.Length} values but must hold one per row ({Batch}).", nameof(labels));
        for (int b = 0; b < Batch; b++)
            if ((uint)labels[b] >= (uint)Classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[b],
                    $"labels[{b}] is {labels[b]} but must lie in 0..{Classes - 1}; check the data set's labels against the network's classes.");

        double total = 0;
        int correct = 0;
        for (int b = 0; b < Batch; b++)
        {
            var z = logits.Slice(b * Classes, Classes);
            var p = probabilities.AsSpan(b * Classes, Classes);
            int best = 0;
            for (int j = 1; j < Classes; j++)
                if (z[j] > z[best])
                    best = j;
            float max = z[best];
            double sum = 0;
            for (int j = 0; j < Classes; j++)
            {
                float e = MathF.Exp(z[j] - max);
                p[j] = e;
                sum += e;
            }
            float inverse = (float)(1.0 / sum);
            for (int j = 0; j < Classes; j++)
                p[j] *= inverse;
            int label = labels[b];
            total += Math.Log(sum) - (z[label] - max);
            if (best == label)
                correct++;
            this.labels[b] = label;
        }
        Correct = correct;
        return (float)(total / Batch);
    }

    /// <summary>Writes <c>(p - onehot(label)) / batch</c> for the last <see cref="Forward"/>.</summary>
    public void Backward(Span<float> dLogits)
    {
        if (dLogits.Length != probabilities.Length)
            throw new ArgumentException($"dLogits holds {dLogits.Length} floats but must hold batch × classes = {probabilities.Length}.", nameof(dLogits));
        float inverseBatch = 1f / Batch;
        for (int i = 0; i < probabilities.Length; i++)
            dLogits[i] = probabilities[i] * inverseBatch;
        for (int b = 0; b < Batch; b++)
            dLogits[b * Classes + labels[b]] -= inverseBatch;
    }
}
