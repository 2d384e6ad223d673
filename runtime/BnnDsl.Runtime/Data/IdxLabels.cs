// Class labels read from an IDX file (N unsigned bytes), each checked to lie in 0 .. ClassCount - 1.
namespace BnnDsl.Runtime.Data;

/// <summary>One class label per sample, each in 0 .. <see cref="ClassCount"/> - 1.</summary>
public sealed class IdxLabels
{
    /// <summary>Wraps <paramref name="labels"/>; every label must be below <paramref name="classCount"/>.</summary>
    public IdxLabels(byte[] labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        int bad = labels.AsSpan().IndexOfAnyExceptInRange((byte)0, (byte)Math.Min(classCount - 1, byte.MaxValue));
        if (bad >= 0)
        {
            throw new ArgumentException($"Label {labels[bad]} at index {bad} is outside 0..{classCount - 1}.", nameof(labels));
        }

        Labels = labels;
        ClassCount = classCount;
    }

    /// <summary>The labels, one byte per sample.</summary>
    public byte[] Labels { get; }

    /// <summary>Number of labels.</summary>
    public int Count => Labels.Length;

    /// <summary>Number of classes; every label is below it.</summary>
    public int ClassCount { get; }
}
