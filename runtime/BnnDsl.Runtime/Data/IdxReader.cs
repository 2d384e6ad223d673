// Reads IDX files (the MNIST format: big-endian header, unsigned-byte data) and checks every header field and size.
using System.Buffers.Binary;
using System.Globalization;

namespace BnnDsl.Runtime.Data;

/// <summary>
/// Reads unsigned-byte IDX files: a 4-byte magic <c>00 00 08 D</c> (D = number of dimensions), D big-endian 32-bit
/// sizes, then the bytes. Images have magic 0x00000803 (N x rows x cols), labels 0x00000801 (N). Every fault in a file
/// (missing, wrong magic, wrong dimension count, truncated, trailing bytes, label out of range) throws a
/// <see cref="DataFormatException"/> naming the file, the fault and the fix.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an unsigned-byte IDX file with three dimensions (images).</summary>
    public const uint ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte IDX file with one dimension (labels).</summary>
    public const uint LabelsMagic = 0x00000801;

    private const byte UnsignedByteType = 0x08;
    private const string FetchAgain = "fetch it again (for MNIST: bash scripts/fetch-mnist.sh)";

    /// <summary>Reads an image file (magic 0x00000803).</summary>
    /// <exception cref="DataFormatException">The file is missing, unreadable or not a well-formed image file.</exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (dimensions, pixels) = Read(path, 3, "images");
        int count = dimensions[0], rows = dimensions[1], columns = dimensions[2];
        if (rows == 0 || columns == 0)
        {
            throw Fault(path, $"its images are {rows}x{columns} pixels; an image needs at least one row and one column. The header is damaged: {FetchAgain}.");
        }

        if ((long)rows * columns > Array.MaxLength)
        {
            throw Fault(path, $"its images are {N(rows)}x{N(columns)} pixels, more than any array holds. The header is damaged: {FetchAgain}.");
        }

        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a label file (magic 0x00000801) whose labels must all lie in 0 .. <paramref name="classCount"/> - 1.</summary>
    /// <exception cref="DataFormatException">The file is missing, unreadable, not a well-formed label file, or holds a label out of range.</exception>
    public static IdxLabels ReadLabels(string path, int classCount = 10)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        var (_, labels) = Read(path, 1, "labels");
        int bad = labels.AsSpan().IndexOfAnyExceptInRange((byte)0, (byte)Math.Min(classCount - 1, byte.MaxValue));
        if (bad >= 0)
        {
            throw Fault(path, $"label {labels[bad]} at index {N(bad)} is outside 0..{classCount - 1}. The file is damaged or belongs to a " +
                $"data set with more classes: {FetchAgain}, or pass the right class count.");
        }

        return new IdxLabels(labels, classCount);
    }

    /// <summary>Reads the header and data of an unsigned-byte IDX file with <paramref name="dimensionCount"/> dimensions.</summary>
    private static (int[] Dimensions, byte[] Data) Read(string path, int dimensionCount, string what)
    {
        uint expectedMagic = UnsignedByteType << 8 | (uint)dimensionCount;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            long length = stream.Length;
            int headerLength = 4 + 4 * dimensionCount;
            Span<byte> header = stackalloc byte[headerLength];
            if (length < 4)
            {
                throw Fault(path, $"it is {N(length)} bytes long, too short for the 4-byte IDX magic number. The file is truncated: {FetchAgain}.");
            }

            stream.ReadExactly(header[..4]);
            CheckMagic(path, BinaryPrimitives.ReadUInt32BigEndian(header), expectedMagic, what);
            if (length < headerLength)
            {
                throw Fault(path, $"it is {N(length)} bytes long, too short for the {headerLength}-byte header of an IDX {what} file. " +
                    $"The file is truncated: {FetchAgain}.");
            }

            stream.ReadExactly(header[4..]);
            var dimensions = new int[dimensionCount];
            long dataLength = 1;
            for (int d = 0; d < dimensionCount; d++)
            {
                uint size = BinaryPrimitives.ReadUInt32BigEndian(header[(4 + 4 * d)..]);
                if (size > Array.MaxLength)
                {
                    throw Fault(path, $"dimension {d} of its header is {N(size)}, larger than any array. The header is damaged: {FetchAgain}.");
                }

                dimensions[d] = (int)size;
                // Saturate rather than overflow: any product past Array.MaxLength is already too big.
                dataLength = Math.Min(dataLength * size, (long)Array.MaxLength + 1);
            }

            if (dataLength > Array.MaxLength)
            {
                throw Fault(path, $"its header declares {Shape(dimensions)}, more bytes than any array holds. The header is damaged: {FetchAgain}.");
            }

            long expected = headerLength + dataLength;
            if (length != expected)
            {
                string fault = length < expected
                    ? $"the file is truncated: {FetchAgain}"
                    : $"the file has {N(length - expected)} bytes past the data, so it is damaged or not one IDX file: {FetchAgain}";
                throw Fault(path, $"expected {N(expected)} bytes for {Shape(dimensions)}, found {N(length)}; {fault}.");
            }

            var data = GC.AllocateUninitializedArray<byte>((int)dataLength);
            stream.ReadExactly(data);
            return (dimensions, data);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataFormatException(path, $"{path}: no such file. Fetch the data set (for MNIST: bash scripts/fetch-mnist.sh) or pass the right path.", exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // EndOfStreamException lands here too: the file shrank between the size check and the read.
            throw new DataFormatException(path, $"{path}: could not be read ({exception.Message}). Check that the file exists, is readable and is not being written.", exception);
        }
    }

    private static void CheckMagic(string path, uint magic, uint expected, string what)
    {
        if (magic == expected)
        {
            return;
        }

        string found = $"its magic number is 0x{magic:X8}, expected 0x{expected:X8} for an IDX {what} file";
        if (magic >> 16 == 0x1F8B)
        {
            throw Fault(path, $"{found}: the file is gzip-compressed. Decompress it (gunzip) or fetch the uncompressed files with bash scripts/fetch-mnist.sh.");
        }

        if (magic >> 16 == 0 && (magic >> 8 & 0xFF) == UnsignedByteType)
        {
            int dimensions = (int)(magic & 0xFF);
            string likely = dimensions switch
            {
                1 => " (a label file)",
                3 => " (an image file)",
                _ => "",
            };
            throw Fault(path, $"{found}: it has {dimensions} dimensions{likely}, not {expected & 0xFF}. Check that images and labels are not swapped, or {FetchAgain}.");
        }

        if (magic >> 16 == 0)
        {
            throw Fault(path, $"{found}: its elements are of type 0x{magic >> 8 & 0xFF:X2}, not unsigned bytes (0x08). Use an unsigned-byte IDX file or {FetchAgain}.");
        }

        throw Fault(path, $"{found}: this is not an IDX file. Check the path, or {FetchAgain}.");
    }

    private static DataFormatException Fault(string path, string what) => new(path, $"{path}: {what}");

    private static string Shape(int[] dimensions) => dimensions.Length switch
    {
        1 => $"{N(dimensions[0])} labels",
        3 => $"{N(dimensions[0])} images of {N(dimensions[1])}×{N(dimensions[2])}",
        _ => string.Join("×", dimensions.Select(d => N(d))),
    };

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
