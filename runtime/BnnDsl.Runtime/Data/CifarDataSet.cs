// CIFAR-10 in its binary format (data_batch_1..5.bin, test_batch.bin): finds, reads and checks the files, and turns
// each record's planar RGB bytes into NHWC images normalized with the CIFAR-10 channel statistics.
using System.Globalization;

namespace BnnDsl.Runtime.Data;

/// <summary>
/// The CIFAR-10 training split (<c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>, 50,000 images) and test split
/// (<c>test_batch.bin</c>, 10,000 images) of the binary version of the data set
/// (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz). Each file is a sequence of 3,073-byte records: one label
/// byte (0..9), then the 32×32 image as 1,024 red, 1,024 green and 1,024 blue bytes, each plane row-major. Images keep
/// the record order and are stored NHWC (channels last), the layout the networks read.
/// </summary>
public sealed class CifarDataSet
{
    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryVariable = "BNNDSL_CIFAR10_DIR";

    /// <summary>Where the archive is downloaded from.</summary>
    public const string DownloadUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

    /// <summary>File name of the test split.</summary>
    public const string TestFile = "test_batch.bin";

    /// <summary>Height and width of every image.</summary>
    public const int ImageSize = 32;

    /// <summary>Colour channels (red, green, blue).</summary>
    public const int Channels = 3;

    /// <summary>Number of classes; every label is below it.</summary>
    public const int ClassCount = 10;

    /// <summary>Bytes of one image: 3 planes of 32×32.</summary>
    public const int ImageBytes = Channels * ImageSize * ImageSize;

    /// <summary>Bytes of one record: the label byte, then the image.</summary>
    public const int RecordBytes = 1 + ImageBytes;

    private const string Layout = "a CIFAR-10 binary file is a sequence of 3,073-byte records: 1 label byte (0..9), then a 32x32 image " +
        "as 1,024 red, 1,024 green and 1,024 blue bytes, each plane row-major";

    private static readonly string Fetch = $"download {DownloadUrl} and extract it (mkdir -p data && tar xzf cifar-10-binary.tar.gz -C data " +
        "creates data/cifar-10-batches-bin), or pass the directory that holds the files (--data DIR)";

    private CifarDataSet(LabeledImages train, LabeledImages test)
    {
        Train = train;
        Test = test;
    }

    /// <summary>File names of the training split, in the order their records are concatenated.</summary>
    public static IReadOnlyList<string> TrainFiles { get; } = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    /// <summary>
    /// Per-channel (R, G, B) mean of the 50,000 CIFAR-10 training images scaled to [0, 1], the values used throughout
    /// the PyTorch CIFAR-10 recipes.
    /// </summary>
    public static ReadOnlySpan<float> Mean => [0.4914f, 0.4822f, 0.4465f];

    /// <summary>Per-channel (R, G, B) standard deviation of the CIFAR-10 training pixels scaled to [0, 1].</summary>
    public static ReadOnlySpan<float> Std => [0.2470f, 0.2435f, 0.2616f];

    /// <summary>Where the files are looked for by default: <c>$BNNDSL_CIFAR10_DIR</c>, else <c>data/cifar-10-batches-bin</c> (relative to the working directory).</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } directory ? directory : Path.Combine("data", "cifar-10-batches-bin");

    /// <summary>The training split (50,000 images for CIFAR-10).</summary>
    public LabeledImages Train { get; }

    /// <summary>The test split (10,000 images for CIFAR-10).</summary>
    public LabeledImages Test { get; }

    /// <summary>Reads the five training files and the test file from <paramref name="directory"/>, checking each one.</summary>
    /// <exception cref="DataFormatException">The directory or a file is missing or malformed; the message names it, the expected layout and the fix.</exception>
    public static CifarDataSet Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DataFormatException(directory, $"{directory}: no such directory. It should hold {string.Join(", ", TrainFiles)} and {TestFile}; {Fetch}.");
        var train = Read([.. TrainFiles.Select(name => Path.Combine(directory, name))]);
        var test = Read([Path.Combine(directory, TestFile)]);
        return new CifarDataSet(train, test);
    }

    /// <summary>
    /// Reads CIFAR-10 binary files (any number of whole records each) into one split, records in file order, then in
    /// file order of <paramref name="paths"/>; images normalized with <see cref="Mean"/> and <see cref="Std"/>.
    /// </summary>
    /// <exception cref="DataFormatException">A file is missing, empty, not a whole number of records, or holds a label above 9.</exception>
    public static LabeledImages Read(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
            throw new ArgumentException("Give at least one CIFAR-10 batch file.", nameof(paths));
        var records = new int[paths.Count];
        long total = 0;
        for (int f = 0; f < paths.Count; f++)
        {
            records[f] = RecordCount(paths[f]);
            total += records[f];
        }
        if (total * ImageBytes > Array.MaxLength)
            throw new DataFormatException(paths[^1], $"{paths[^1]}: the {paths.Count} files hold {N(total)} images, more than one array holds; read fewer files at once.");

        var pixels = GC.AllocateUninitializedArray<byte>((int)(total * ImageBytes));
        var labels = new byte[total];
        int first = 0;
        for (int f = 0; f < paths.Count; f++)
        {
            ReadRecords(paths[f], records[f], pixels.AsSpan(first * ImageBytes, records[f] * ImageBytes), labels.AsSpan(first, records[f]));
            first += records[f];
        }
        return new LabeledImages(new ImageSet((int)total, ImageSize, ImageSize, Channels, pixels, Mean, Std), new IdxLabels(labels, ClassCount));
    }

    /// <summary>The number of records in <paramref name="path"/>, after checking that it exists and holds whole records.</summary>
    private static int RecordCount(string path)
    {
        long length;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (FileNotFoundException exception)
        {
            throw Missing(path, exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(path, exception);
        }

        if (length == 0)
            throw new DataFormatException(path, $"{path}: the file is empty; {Layout}. {Capitalized(Fetch)}.");
        if (length % RecordBytes != 0)
        {
            string likely = HasGzipMagic(path) ? " The file is gzip-compressed: extract the archive (tar xzf) and point at the extracted directory."
                : length % (RecordBytes + 1) == 0 ? " Its length fits 3,074-byte records, the layout of CIFAR-100 (2 label bytes per record); this reader wants CIFAR-10."
                : " It is truncated or not a CIFAR-10 binary file.";
            throw new DataFormatException(path, $"{path}: it is {N(length)} bytes long, not a whole number of {N(RecordBytes)}-byte records " +
                $"({N(length / RecordBytes)} records and {N(length % RecordBytes)} bytes left over); {Layout}.{likely} {Capitalized(Fetch)}.");
        }
        if (length / RecordBytes * ImageBytes > Array.MaxLength)
            throw new DataFormatException(path, $"{path}: it holds {N(length / RecordBytes)} records, more images than one array holds; a CIFAR-10 batch file holds 10,000.");
        return (int)(length / RecordBytes);
    }

    /// <summary>Reads <paramref name="count"/> records: labels checked, each planar RGB image written NHWC.</summary>
    private static void ReadRecords(string path, int count, Span<byte> pixels, Span<byte> labels)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
            if (stream.Length != (long)count * RecordBytes)
                throw new DataFormatException(path, $"{path}: the file changed size while it was read ({N(stream.Length)} bytes now); read it again once nothing writes it.");
            Span<byte> record = stackalloc byte[RecordBytes];
            for (int r = 0; r < count; r++)
            {
                stream.ReadExactly(record);
                if (record[0] >= ClassCount)
                    throw new DataFormatException(path, $"{path}: record {N(r)} (byte offset {N((long)r * RecordBytes)}) has label {record[0]}, " +
                        $"outside 0..{ClassCount - 1}; {Layout}. The file is damaged or from another data set. {Capitalized(Fetch)}.");
                labels[r] = record[0];
                var image = pixels.Slice(r * ImageBytes, ImageBytes);
                int planeSize = ImageSize * ImageSize;
                for (int c = 0; c < Channels; c++)
                {
                    var plane = record.Slice(1 + c * planeSize, planeSize);
                    for (int p = 0; p < planeSize; p++)
                        image[p * Channels + c] = plane[p];
                }
            }
        }
        catch (FileNotFoundException exception)
        {
            throw Missing(path, exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(path, exception);
        }
    }

    private static DataFormatException Missing(string path, Exception exception)
    {
        string? directory = Path.GetDirectoryName(path);
        string python = directory is { Length: > 0 } && File.Exists(Path.Combine(directory, "data_batch_1"))
            ? " The directory holds data_batch_1 without .bin: that is the Python (pickle) version; this reader wants the binary version."
            : "";
        return new DataFormatException(path, $"{path}: no such file. A CIFAR-10 directory holds {string.Join(", ", TrainFiles)} and {TestFile}; {Layout}.{python} {Capitalized(Fetch)}.", exception);
    }

    private static DataFormatException Unreadable(string path, Exception exception) =>
        new(path, $"{path}: could not be read ({exception.Message}). Check that the file exists, is readable and is not being written.", exception);

    private static bool HasGzipMagic(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return stream.ReadByte() == 0x1F && stream.ReadByte() == 0x8B;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
