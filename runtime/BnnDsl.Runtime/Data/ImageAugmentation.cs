// The random augmentation the Trainer applies to each training batch: a shift (a random crop of the image padded by
// MaxShift pixels) and an optional horizontal flip, every draw taken from the caller's generator.
namespace BnnDsl.Runtime.Data;

/// <summary>
/// Augments images one by one: a shift by whole pixels dy, dx drawn uniformly from [-<see cref="MaxShift"/>,
/// <see cref="MaxShift"/>] (the uncovered border filled with a given pixel), then, when <see cref="FlipHorizontal"/>,
/// a left-right mirror with probability 1/2. A shift by (dy, dx) with a black border is exactly the crop at offset
/// (MaxShift - dy, MaxShift - dx) of the image zero-padded by MaxShift pixels on every side, so
/// <c>new ImageAugmentation(4, true)</c> is the standard CIFAR-10 recipe (He et al., 2016: pad 4, random 32x32 crop,
/// random horizontal flip), and <c>new ImageAugmentation(2, false)</c> the MNIST shift of the LeNet example.
/// </summary>
/// <param name="MaxShift">Largest shift in pixels, in each direction; 0: no shift.</param>
/// <param name="FlipHorizontal">Whether to mirror half of the images left to right.</param>
public readonly record struct ImageAugmentation(int MaxShift, bool FlipHorizontal)
{
    /// <summary>Whether <see cref="Apply"/> leaves every image as it is (no shift, no flip).</summary>
    public bool IsIdentity => MaxShift == 0 && !FlipHorizontal;

    /// <summary>
    /// Augments each image of <paramref name="batch"/> (images of <paramref name="rows"/> × <paramref name="columns"/> ×
    /// <paramref name="channels"/>, NHWC, back to back) in place with its own draws from <paramref name="random"/>, in
    /// this order per image: dy, dx (when <see cref="MaxShift"/> &gt; 0), then the flip (when <see cref="FlipHorizontal"/>).
    /// <paramref name="fill"/> is the border pixel (one value per channel, or one for all). Allocates nothing.
    /// </summary>
    public void Apply(Span<float> batch, int rows, int columns, int channels, ReadOnlySpan<float> fill, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxShift);
        int size = rows * columns * channels;
        if (size <= 0 || batch.Length % size != 0)
            throw new ArgumentException($"The batch holds {batch.Length} floats, not a whole number of {rows}x{columns}x{channels} images.", nameof(batch));
        for (int offset = 0; offset < batch.Length; offset += size)
        {
            var image = batch.Slice(offset, size);
            if (MaxShift > 0)
            {
                int dy = random.Next(-MaxShift, MaxShift + 1), dx = random.Next(-MaxShift, MaxShift + 1);
                ImageShift.Shift(image, rows, columns, channels, dy, dx, fill);
            }
            if (FlipHorizontal && random.Next(2) == 1)
                ImageFlip.FlipHorizontal(image, rows, columns, channels);
        }
    }
}
