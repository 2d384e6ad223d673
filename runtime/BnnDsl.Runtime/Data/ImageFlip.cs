// Horizontal mirroring of images, the second augmentation of the standard CIFAR recipe (with the padded random crop).
namespace BnnDsl.Runtime.Data;

/// <summary>Mirrors an NHWC image left to right.</summary>
public static class ImageFlip
{
    /// <summary>
    /// Mirrors <paramref name="image"/> (<paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>,
    /// channels last) in place: <c>out[y, x] = in[y, width - 1 - x]</c>, every channel of a pixel kept together.
    /// </summary>
    public static void FlipHorizontal(Span<float> image, int height, int width, int channels)
    {
        if (image.Length != height * width * channels)
            throw new ArgumentException($"The image holds {image.Length} floats but {height}x{width}x{channels} needs {height * width * channels}.", nameof(image));
        int row = width * channels;
        for (int y = 0; y < height; y++)
        {
            var line = image.Slice(y * row, row);
            for (int left = 0, right = width - 1; left < right; left++, right--)
                for (int c = 0; c < channels; c++)
                    (line[left * channels + c], line[right * channels + c]) = (line[right * channels + c], line[left * channels + c]);
        }
    }
}
