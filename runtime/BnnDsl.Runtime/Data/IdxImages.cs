// Unsigned-byte images read from an IDX file (N x rows x cols), and their normalization to float tensors.
namespace BnnDsl.Runtime.Data;

/// <summary>
/// <see cref="ImageSet.Count"/> grayscale images of <see cref="ImageSet.Rows"/> x <see cref="ImageSet.Columns"/> bytes,
/// stored image after image, row-major, in <see cref="ImageSet.Pixels"/> (the IDX layout, which is also NHWC with
/// C = 1), normalized with the MNIST statistics unless told otherwise.
/// </summary>
public sealed class IdxImages : ImageSet
{
    /// <summary>Mean of the MNIST training pixels after scaling to [0, 1].</summary>
    public const float MnistMean = 0.1307f;

    /// <summary>Standard deviation of the MNIST training pixels after scaling to [0, 1].</summary>
    public const float MnistStd = 0.3081f;

    /// <summary>Wraps <paramref name="pixels"/>, which must hold exactly <paramref name="count"/> x rows x columns bytes.</summary>
    public IdxImages(int count, int rows, int columns, byte[] pixels)
        : base(count, rows, columns, 1, pixels, [MnistMean], [MnistStd])
    {
    }

    /// <summary>Bytes per image: <see cref="ImageSet.Rows"/> x <see cref="ImageSet.Columns"/>.</summary>
    public int PixelsPerImage => ValuesPerImage;

    /// <summary>
    /// Writes images <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 into
    /// <paramref name="destination"/> as floats <c>(x / 255 - mean) / std</c>, NHWC with C = 1
    /// (count x rows x columns x 1). Allocates nothing.
    /// </summary>
    public void Normalize(int first, int count, Span<float> destination, float mean = MnistMean, float std = MnistStd)
    {
        CheckRange(first, count, destination.Length);
        Span<float> table = stackalloc float[256];
        FillTable(table, mean, std);
        int size = PixelsPerImage;
        Map(Pixels.AsSpan(first * size, count * size), destination, table, 1);
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
            Map(Image(indices[i]), destination.Slice(i * size, size), table, 1);
    }
}
