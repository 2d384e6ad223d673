// Unsigned-byte images stored NHWC (channels last), with the per-channel statistics that normalize them to floats.
namespace BnnDsl.Runtime.Data;

/// <summary>
/// <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/> pixels with <see cref="Channels"/> bytes
/// each, stored image after image, row-major, channels last (NHWC) in <see cref="Pixels"/>. <see cref="Normalize(int, int, Span{float})"/>
/// maps byte x of channel c to <c>(x / 255 - Mean[c]) / Std[c]</c>, the input the networks train on.
/// </summary>
public class ImageSet
{
    private readonly float[] mean;
    private readonly float[] std;
    private readonly float[] table;
    private readonly float[] black;

    /// <summary>
    /// Wraps <paramref name="pixels"/> (exactly count x rows x columns x channels bytes, NHWC);
    /// <paramref name="mean"/> and <paramref name="std"/> give one finite value per channel (std positive).
    /// </summary>
    public ImageSet(int count, int rows, int columns, int channels, byte[] pixels, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)rows * columns * channels, Array.MaxLength, "rows x columns x channels");
        if (pixels.LongLength != (long)count * rows * columns * channels)
            throw new ArgumentException($"{count} images of {rows}x{columns}x{channels} need {(long)count * rows * columns * channels} bytes, got {pixels.LongLength}.", nameof(pixels));
        if (mean.Length != channels || std.Length != channels)
            throw new ArgumentException($"Images with {channels} channels need {channels} means and {channels} standard deviations, got {mean.Length} and {std.Length}.", nameof(mean));

        Count = count;
        Rows = rows;
        Columns = columns;
        Channels = channels;
        Pixels = pixels;
        this.mean = mean.ToArray();
        this.std = std.ToArray();
        table = new float[256 * channels];
        black = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            FillTable(table.AsSpan(256 * c, 256), mean[c], std[c]);
            black[c] = table[256 * c];
        }
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Height of each image.</summary>
    public int Rows { get; }

    /// <summary>Width of each image.</summary>
    public int Columns { get; }

    /// <summary>Bytes per pixel (1 for grayscale, 3 for RGB).</summary>
    public int Channels { get; }

    /// <summary>Bytes per image, and floats per normalized image: <see cref="Rows"/> x <see cref="Columns"/> x <see cref="Channels"/>.</summary>
    public int ValuesPerImage => Rows * Columns * Channels;

    /// <summary>All pixels, image after image, row-major, channels last.</summary>
    public byte[] Pixels { get; }

    /// <summary>Per-channel mean of the pixels scaled to [0, 1], subtracted by <see cref="Normalize(int, int, Span{float})"/>.</summary>
    public ReadOnlySpan<float> Mean => mean;

    /// <summary>Per-channel standard deviation of the pixels scaled to [0, 1], divided out by <see cref="Normalize(int, int, Span{float})"/>.</summary>
    public ReadOnlySpan<float> Std => std;

    /// <summary>A black pixel (byte 0 in every channel) after normalization: the fill of borders uncovered by a shift or crop.</summary>
    public ReadOnlySpan<float> Black => black;

    /// <summary>The bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * ValuesPerImage, ValuesPerImage);
    }

    /// <summary>
    /// Writes images <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 into
    /// <paramref name="destination"/> as floats <c>(x / 255 - Mean[c]) / Std[c]</c>, NHWC. Allocates nothing.
    /// </summary>
    public void Normalize(int first, int count, Span<float> destination)
    {
        CheckRange(first, count, destination.Length);
        Map(Pixels.AsSpan(first * ValuesPerImage, count * ValuesPerImage), destination, table, Channels);
    }

    /// <summary>
    /// Writes the images listed in <paramref name="indices"/> (a shuffled batch, say), in that order, into
    /// <paramref name="destination"/> as floats <c>(x / 255 - Mean[c]) / Std[c]</c>, NHWC. Allocates nothing.
    /// </summary>
    public void Normalize(ReadOnlySpan<int> indices, Span<float> destination)
    {
        CheckDestination(indices.Length, destination.Length);
        int size = ValuesPerImage;
        for (int i = 0; i < indices.Length; i++)
            Map(Image(indices[i]), destination.Slice(i * size, size), table, Channels);
    }

    /// <summary>Checks that images <paramref name="first"/> .. + <paramref name="count"/> exist and fit a destination of <paramref name="length"/> floats.</summary>
    protected void CheckRange(int first, int count, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count - first);
        CheckDestination(count, length);
    }

    /// <summary>Checks that a destination of <paramref name="length"/> floats holds <paramref name="images"/> images.</summary>
    protected void CheckDestination(int images, int length)
    {
        if (length < (long)images * ValuesPerImage)
            throw new ArgumentException(
                $"{images} images of {Rows}x{Columns}x{Channels} need {(long)images * ValuesPerImage} floats, the destination holds {length}.", "destination");
    }

    /// <summary>Fills the 256-entry table of one channel: <c>table[x] = (x / 255 - mean) / std</c>.</summary>
    protected static void FillTable(Span<float> table, float mean, float std)
    {
        if (!(std > 0) || !float.IsFinite(std) || !float.IsFinite(mean))
            throw new ArgumentOutOfRangeException(nameof(std), $"Normalization needs a finite mean and a positive finite std, got mean {mean}, std {std}.");
        for (int x = 0; x < table.Length; x++)
            table[x] = (x / 255f - mean) / std;
    }

    /// <summary>Maps interleaved bytes of <paramref name="channels"/> channels through the per-channel tables (256 entries per channel).</summary>
    protected static void Map(ReadOnlySpan<byte> pixels, Span<float> destination, ReadOnlySpan<float> table, int channels)
    {
        if (channels == 1)
        {
            for (int i = 0; i < pixels.Length; i++)
                destination[i] = table[pixels[i]];
            return;
        }
        for (int i = 0; i < pixels.Length; i += channels)
            for (int c = 0; c < channels; c++)
                destination[i + c] = table[256 * c + pixels[i + c]];
    }
}
