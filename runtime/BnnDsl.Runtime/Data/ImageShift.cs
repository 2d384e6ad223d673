// Random translation of images, the one augmentation MNIST-style training needs to generalize past the training set;
// with a border of N pixels it is also the "random crop of a zero-padded image" of CIFAR training.
namespace BnnDsl.Runtime.Data;

/// <summary>Moves an NHWC image by whole pixels, filling the uncovered border with a constant pixel.</summary>
public static class ImageShift
{
    /// <summary>
    /// Shifts <paramref name="image"/> (<paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>,
    /// channels last) in place by <paramref name="dy"/> rows down and <paramref name="dx"/> columns right (negative:
    /// up / left): <c>out[y, x] = in[y - dy, x - dx]</c>, and <paramref name="fill"/> where that source lies outside.
    /// </summary>
    public static void Shift(Span<float> image, int height, int width, int channels, int dy, int dx, float fill) =>
        Shift(image, height, width, channels, dy, dx, new ReadOnlySpan<float>(in fill));

    /// <summary>
    /// As <see cref="Shift(Span{float}, int, int, int, int, int, float)"/>, with a border pixel given per channel:
    /// <paramref name="fill"/> holds <paramref name="channels"/> values (or one value for every channel).
    /// </summary>
    public static void Shift(Span<float> image, int height, int width, int channels, int dy, int dx, ReadOnlySpan<float> fill)
    {
        if (image.Length != height * width * channels)
            throw new ArgumentException($"The image holds {image.Length} floats but {height}x{width}x{channels} needs {height * width * channels}.", nameof(image));
        if (fill.Length != 1 && fill.Length != channels)
            throw new ArgumentException($"The fill holds {fill.Length} values; give one per channel ({channels}) or one for all.", nameof(fill));
        if (dy == 0 && dx == 0)
            return;
        int row = width * channels;
        // Walk rows in the direction that never reads a row already overwritten.
        for (int i = 0; i < height; i++)
        {
            int y = dy > 0 ? height - 1 - i : i;
            var target = image.Slice(y * row, row);
            int source = y - dy;
            if (source < 0 || source >= height)
            {
                Fill(target, fill);
                continue;
            }
            var from = image.Slice(source * row, row);
            if (dx >= 0)
            {
                int keep = Math.Max(0, width - dx) * channels;
                from[..keep].CopyTo(target[(row - keep)..]);
                Fill(target[..(row - keep)], fill);
            }
            else
            {
                int keep = Math.Max(0, width + dx) * channels;
                from[(row - keep)..].CopyTo(target[..keep]);
                Fill(target[keep..], fill);
            }
        }
    }

    /// <summary>Writes <paramref name="pixel"/> into every pixel of <paramref name="target"/> (a run of whole pixels).</summary>
    private static void Fill(Span<float> target, ReadOnlySpan<float> pixel)
    {
        if (pixel.Length == 1)
        {
            target.Fill(pixel[0]);
            return;
        }
        for (int i = 0; i < target.Length; i += pixel.Length)
            pixel.CopyTo(target.Slice(i, pixel.Length));
    }
}
