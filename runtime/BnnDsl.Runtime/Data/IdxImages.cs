// Unsigned-byte images read from an IDX file (N x rows x cols), and their normalization to float tensors.
namespace BnnDsl.Runtime.Data;

/// <summary>
/// <see cref="Count"/> grayscale images of <see cref="Rows"/> x <see cref="Columns"/> bytes, stored image after image,
/// row-major, in <see cref="Pixels"/> (the IDX layout, which is also NHWC with C = 1).
/// </summary>
public sealed class IdxImages
{
    /// <summary>Mean of the MNIST training pixels after scaling to [0, 1].</summary>
    public const float MnistMean = 0.1307f;

    /// <summary>Standard deviation of the MNIST training pixels after scaling to [0, 1].</summary>
    public const float MnistStd = 0.3081f;

    /// <summary>Wraps <paramref name="pixels"/>, which must hold exactly <paramref name="count"/> x rows x columns bytes.</summary>
    public IdxImages(int count, int rows, int columns, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)rows * columns, Array.MaxLength, "rows x columns");
        if (pixels.LongLength != (long)count * rows * columns)
        {
            throw new ArgumentException($"{count} images of {rows}x{columns} need {(long)count * rows * columns} bytes, got {pixels.LongLength}.", nameof(pixels));
        }

        Count = count;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Height of each image.</summary>
    public int Rows { get; }

    /// <summary>Width of each image.</summary>
    public int Columns { get; }

    /// <summary>Bytes per image: <see cref="Rows"/> x <see cref="Columns"/>.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>All pixels, image after image, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>
    /// Writes images <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 into
    /// <paramref name="destination"/> as floats <c>(x / 255 - mean) / std</c>, NHWC with C = 1
    /// (count x rows x columns x 1). Allocates nothing.
    /// </summary>
    public void Normalize(int first, int count, Span<float> destination, float mean = MnistMean, float std = MnistStd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count - first);
        CheckDestination(count, destination.Length);
        Span<float> table = stackalloc float[256];
        FillTable(table, mean, std);
        int size = PixelsPerImage;
        Map(Pixels.AsSpan(first * size, count * size), destination, table);
    }

    /// <summary>
    /// Writes the images listed in <paramref name="indices"/> (a shuffled batch, say), in that order, into
    /// <paramref name="destination"/> as floats <c>(x / 255 - mean) / std</c>, NHWC with C = 1. Allocates nothing.
    /// </summary>
    public void Normalize(ReadOnlySpan<int> indices, Span<float> destination, float mean = MnistMean, float std = MnistStd)
    {
        CheckDestination(indices.Length, destination.Length);
        Span<float> table = stackalloc float[256];
        FillTable(table, mean, std);
        int size = PixelsPerImage;
        for (int i = 0; i < indices.Length; i++)
        {
            Map(Image(indices[i]), destination.Slice(i * size, size), table);
        }
    }

    private void CheckDestination(int images, int length)
    {
        if (length < (long)images * PixelsPerImage)
        {
            throw new ArgumentException(
                $"{images} images of {Rows}x{Columns} need {(long)images * PixelsPerImage} floats, the destination holds {length}.", "destination");
        }
    }

    private static void FillTable(Span<float> table, float mean, float std)
    {
        if (!(std > 0) || !float.IsFinite(std) || !float.IsFinite(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(std), $"Normalization needs a finite mean and a positive finite std, got mean {mean}, std {std}.");
        }

        for (int x = 0; x < table.Length; x++)
        {
            table[x] = (x / 255f - mean) / std;
        }
    }

    private static void Map(ReadOnlySpan<byte> pixels, Span<float> destination, ReadOnlySpan<float> table)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            destination[i] = table[pixels[i]];
        }
    }
}
