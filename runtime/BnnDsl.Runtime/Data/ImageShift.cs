// Random translation of images, the one augmentation MNIST-style training needs to generalize past the training set.
namespace BnnDsl.Runtime.Data;

/// <summary>Moves an NHWC image by whole pixels, filling the uncovered border with a constant.</summary>
public static class ImageShift
{
    /// <summary>
    /// Shifts <paramref name="image"/> (<paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>,
    /// channels last) in place by <paramref name="dy"/> rows down and <paramref name="dx"/> columns right (negative:
    /// up / left): <c>out[y, x] = in[y - dy, x - dx]</c>, and <paramref name="fill"/> where that source lies outside.
    /// </summary>
    public static void Shift(Span<float> image, int height, int width, int channels, int dy, int dx, float fill)
    {
        if (image.Length != height * width * channels)
            throw new ArgumentException($"The image holds {image.Length} floats but {height}x{width}x{channels} needs {height * width * channels}.", nameof(image));
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
                target.Fill(fill);
                continue;
            }
            var from = image.Slice(source * row, row);
            if (dx >= 0)
            {
                int keep = Math.Max(0, width - dx) * channels;
                from[..keep].CopyTo(target[(row - keep)..]);
                target[..(row - keep)].Fill(fill);
            }
            else
            {
                int keep = Math.Max(0, width + dx) * channels;
                from[(row - keep)..].CopyTo(target[..keep]);
                target[keep..].Fill(fill);
            }
        }
    }
}
