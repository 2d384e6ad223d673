// A generated labeled image set of any shape: one fixed blocky colour pattern per class plus per-image noise, so a
// network's training can be demonstrated and tested without downloading a data set.
namespace BnnDsl.Runtime.Data;

/// <summary>
/// Images whose class is a pattern: class k has one fixed pattern of 4×4-pixel blocks (every block and channel a random
/// byte drawn from a generator seeded by k and the shape, not by <c>seed</c>, so training and test sets made with
/// different seeds share the patterns), and every image adds uniform noise in [-noise, noise] to its class pattern.
/// Normalized with mean 0.5 and standard deviation 0.25 in every channel.
/// </summary>
public static class SyntheticImages
{
    /// <summary>Mean used to normalize the generated pixels (every channel).</summary>
    public const float Mean = 0.5f;

    /// <summary>Standard deviation used to normalize the generated pixels (every channel).</summary>
    public const float Std = 0.25f;

    private const int Block = 4;

    /// <summary>
    /// Creates <paramref name="count"/> images of <paramref name="rows"/> × <paramref name="columns"/> ×
    /// <paramref name="channels"/> (NHWC) with labels drawn uniformly from 0 .. <paramref name="classes"/> - 1, all from
    /// <paramref name="seed"/>; <paramref name="noise"/> (0..255) is the amplitude of the per-pixel noise.
    /// </summary>
    public static LabeledImages Create(int count, int rows, int columns, int channels, int classes, int seed, int noise = 64)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classes, 256);
        ArgumentOutOfRangeException.ThrowIfNegative(noise);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(noise, 255);
        int size = rows * columns * channels;
        var patterns = new byte[classes][];
        for (int k = 0; k < classes; k++)
            patterns[k] = Pattern(k, rows, columns, channels);

        var rng = new Random(seed);
        var pixels = new byte[(long)count * size];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = rng.Next(classes);
            labels[i] = (byte)label;
            var image = pixels.AsSpan(i * size, size);
            var pattern = patterns[label];
            for (int p = 0; p < size; p++)
                image[p] = (byte)Math.Clamp(pattern[p] + rng.Next(-noise, noise + 1), 0, 255);
        }
        var mean = new float[channels];
        var std = new float[channels];
        Array.Fill(mean, Mean);
        Array.Fill(std, Std);
        return new LabeledImages(new ImageSet(count, rows, columns, channels, pixels, mean, std), new IdxLabels(labels, classes));
    }

    /// <summary>The pattern of class <paramref name="label"/>: constant over 4×4 blocks, one random byte per block and channel.</summary>
    private static byte[] Pattern(int label, int rows, int columns, int channels)
    {
        var rng = new Random(unchecked(label * 7_919 + rows * 31 + columns * 17 + channels));
        int blockRows = (rows + Block - 1) / Block, blockColumns = (columns + Block - 1) / Block;
        var blocks = new byte[blockRows * blockColumns * channels];
        rng.NextBytes(blocks);
        var pattern = new byte[rows * columns * channels];
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < columns; x++)
                for (int c = 0; c < channels; c++)
                    pattern[(y * columns + x) * channels + c] = blocks[((y / Block) * blockColumns + x / Block) * channels + c];
        return pattern;
    }
}
