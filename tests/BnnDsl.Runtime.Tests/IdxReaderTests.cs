// IDX files built byte by byte in a temp directory: read back exactly, every fault a DataFormatException naming the file,
// and every truncation and 500 random byte flips either load what the bytes say or throw that exception.
using System.Buffers.Binary;
using BnnDsl.Runtime.Data;

namespace BnnDsl.Runtime.Tests;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-idx-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>An IDX file: magic 00 00 08 D, D big-endian 32-bit sizes, then the bytes.</summary>
    private static byte[] Idx(int[] dimensions, byte[] data, byte type = 0x08)
    {
        var file = new byte[4 + 4 * dimensions.Length + data.Length];
        file[2] = type;
        file[3] = (byte)dimensions.Length;
        for (int d = 0; d < dimensions.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4 + 4 * d), dimensions[d]);
        }

        data.CopyTo(file, 4 + 4 * dimensions.Length);
        return file;
    }

    private static byte[] Pixels(int count, int seed)
    {
        var pixels = new byte[count];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    private static byte[] Labels(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static DataFormatException Fails(string path, Action load, params string[] phrases)
    {
        var exception = Assert.Throws<DataFormatException>(load);
        Assert.Equal(path, exception.FilePath);
        Assert.Contains(Path.GetFileName(path), exception.Message, StringComparison.Ordinal);
        foreach (string phrase in phrases)
        {
            Assert.Contains(phrase, exception.Message, StringComparison.Ordinal);
        }

        return exception;
    }

    /// <summary>A small MNIST-shaped data set: 5 training and 3 test images of 4×3, in the four standard files.</summary>
    private Dictionary<string, byte[]> WriteSmallMnist()
    {
        var files = new Dictionary<string, byte[]>
        {
            [MnistDataSet.TrainImagesFile] = Idx([5, 4, 3], Pixels(5 * 12, 1)),
            [MnistDataSet.TrainLabelsFile] = Idx([5], Labels(5, 2)),
            [MnistDataSet.TestImagesFile] = Idx([3, 4, 3], Pixels(3 * 12, 3)),
            [MnistDataSet.TestLabelsFile] = Idx([3], Labels(3, 4)),
        };
        foreach (var (name, bytes) in files)
        {
            Write(name, bytes);
        }

        return files;
    }

    [Fact]
    public void ReadsImagesBack()
    {
        var pixels = Pixels(2 * 3 * 4, 7);
        var images = IdxReader.ReadImages(Write("images", Idx([2, 3, 4], pixels)));
        Assert.Equal((2, 3, 4, 12), (images.Count, images.Rows, images.Columns, images.PixelsPerImage));
        Assert.Equal(pixels, images.Pixels);
        Assert.Equal(pixels[12..], images.Image(1).ToArray());
    }

    [Fact]
    public void ReadsHandBuiltBytes()
    {
        byte[] file = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 128, 7];
        var images = IdxReader.ReadImages(Write("images", file));
        Assert.Equal((1, 2, 2), (images.Count, images.Rows, images.Columns));
        Assert.Equal(new byte[] { 0, 255, 128, 7 }, images.Pixels);

        var labels = IdxReader.ReadLabels(Write("labels", [0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4]));
        Assert.Equal(new byte[] { 9, 0, 4 }, labels.Labels);
        Assert.Equal((3, 10), (labels.Count, labels.ClassCount));
    }

    [Fact]
    public void ReadsEmptyFiles()
    {
        Assert.Equal(0, IdxReader.ReadImages(Write("images", Idx([0, 28, 28], []))).Count);
        Assert.Equal(0, IdxReader.ReadLabels(Write("labels", Idx([0], []))).Count);
    }

    [Fact]
    public void LoadsTheFourStandardFiles()
    {
        var files = WriteSmallMnist();
        var mnist = MnistDataSet.Load(directory);
        Assert.Equal((5, 4, 3), (mnist.Train.Count, mnist.Train.Images.Rows, mnist.Train.Images.Columns));
        Assert.Equal(3, mnist.Test.Count);
        Assert.Equal(files[MnistDataSet.TrainImagesFile][16..], mnist.Train.Images.Pixels);
        Assert.Equal(files[MnistDataSet.TrainLabelsFile][8..], mnist.Train.Labels.Labels);
        Assert.Equal(files[MnistDataSet.TestImagesFile][16..], mnist.Test.Images.Pixels);
        Assert.Equal(files[MnistDataSet.TestLabelsFile][8..], mnist.Test.Labels.Labels);
    }

    [Fact]
    public void LoadsTheDottedNames()
    {
        var files = WriteSmallMnist();
        foreach (string name in files.Keys)
        {
            File.Move(Path.Combine(directory, name), Path.Combine(directory, name.Replace("-idx", ".idx", StringComparison.Ordinal)));
        }

        Assert.True(File.Exists(Path.Combine(directory, "train-images.idx3-ubyte")));
        var mnist = MnistDataSet.Load(directory);
        Assert.Equal(files[MnistDataSet.TestLabelsFile][8..], mnist.Test.Labels.Labels);
    }

    [Fact]
    public void LabelsAcceptAGivenClassCount()
    {
        string path = Write("labels", Idx([3], [0, 25, 11]));
        Assert.Equal(new byte[] { 0, 25, 11 }, IdxReader.ReadLabels(path, classCount: 26).Labels);
        Fails(path, () => IdxReader.ReadLabels(path, classCount: 25), "label 25 at index 1 is outside 0..24");
    }

    [Fact]
    public void NormalizesToFloats()
    {
        var images = new IdxImages(3, 1, 2, [0, 255, 51, 102, 7, 200]);
        var destination = new float[5];
        destination[4] = -42;
        images.Normalize(1, 2, destination, mean: 0.5f, std: 0.25f);
        float[] expected = [.. new byte[] { 51, 102, 7, 200 }.Select(x => (x / 255f - 0.5f) / 0.25f)];
        Assert.Equal(expected, destination[..4]);
        Assert.Equal(-42, destination[4]);

        images.Normalize([2, 0], destination);
        Assert.Equal((7 / 255f - IdxImages.MnistMean) / IdxImages.MnistStd, destination[0]);
        Assert.Equal((200 / 255f - IdxImages.MnistMean) / IdxImages.MnistStd, destination[1]);
        Assert.Equal(-IdxImages.MnistMean / IdxImages.MnistStd, destination[2], 6);
        Assert.Equal((1 - IdxImages.MnistMean) / IdxImages.MnistStd, destination[3], 6);
    }

    [Fact]
    public void NormalizeAllocatesNothing()
    {
        var images = new IdxImages(4, 2, 2, Pixels(16, 5));
        var destination = new float[16];
        int[] indices = [3, 1, 0, 2];
        images.Normalize(0, 4, destination);
        images.Normalize(indices, destination);
        long before = GC.GetAllocatedBytesForCurrentThread();
        images.Normalize(0, 4, destination);
        images.Normalize(indices, destination);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void NormalizeRejectsBadArguments()
    {
        var images = new IdxImages(2, 2, 2, new byte[8]);
        Assert.Throws<ArgumentException>(() => images.Normalize(0, 2, new float[7]));
        Assert.Throws<ArgumentOutOfRangeException>(() => images.Normalize(1, 2, new float[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => images.Normalize([2], new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => images.Normalize(0, 1, new float[4], std: 0));
    }

    [Fact]
    public void TruncatedDataNamesTheSizes()
    {
        string path = Write("train-images-idx3-ubyte", Idx([60_000, 28, 28], new byte[1_000 - 16]));
        Fails(path, () => IdxReader.ReadImages(path),
            "expected 47,040,016 bytes for 60,000 images of 28×28, found 1,000", "truncated", "scripts/fetch-mnist.sh");
    }

    [Fact]
    public void TrailingBytes()
    {
        string path = Write("labels", [.. Idx([2], [1, 2]), 0, 0, 0]);
        Fails(path, () => IdxReader.ReadLabels(path), "expected 10 bytes for 2 labels, found 13", "3 bytes past the data");
    }

    [Fact]
    public void TruncatedHeader()
    {
        string shortMagic = Write("a", [0, 0, 8]);
        Fails(shortMagic, () => IdxReader.ReadImages(shortMagic), "3 bytes long", "truncated");
        string shortHeader = Write("b", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0]);
        Fails(shortHeader, () => IdxReader.ReadImages(shortHeader), "16-byte header", "truncated");
        string empty = Write("c", []);
        Fails(empty, () => IdxReader.ReadLabels(empty), "0 bytes long");
    }

    [Fact]
    public void WrongMagic()
    {
        string labels = Write("labels", Idx([2], [1, 2]));
        Fails(labels, () => IdxReader.ReadImages(labels), "0x00000801, expected 0x00000803", "1 dimensions (a label file)", "swapped");
        string images = Write("images", Idx([1, 1, 1], [1]));
        Fails(images, () => IdxReader.ReadLabels(images), "0x00000803, expected 0x00000801", "3 dimensions (an image file)");
        string twoDimensions = Write("matrix", Idx([2, 2], [1, 2, 3, 4]));
        Fails(twoDimensions, () => IdxReader.ReadImages(twoDimensions), "2 dimensions, not 3");
        string floats = Write("floats", Idx([1], [0, 0, 0, 0], type: 0x0D));
        Fails(floats, () => IdxReader.ReadLabels(floats), "type 0x0D, not unsigned bytes");
        string gzip = Write("train-labels-idx1-ubyte.gz", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]);
        Fails(gzip, () => IdxReader.ReadLabels(gzip), "gzip-compressed", "gunzip");
        string text = Write("text", "hello world"u8.ToArray());
        Fails(text, () => IdxReader.ReadImages(text), "not an IDX file");
    }

    [Fact]
    public void ImpossibleDimensions()
    {
        string huge = Write("huge", Idx([-1, 28, 28], []));
        Fails(huge, () => IdxReader.ReadImages(huge), "larger than any array");
        string product = Write("product", Idx([1 << 30, 1 << 30, 1 << 30], []));
        Fails(product, () => IdxReader.ReadImages(product), "more bytes than any array");
        string noColumns = Write("columns", Idx([5, 28, 0], []));
        Fails(noColumns, () => IdxReader.ReadImages(noColumns), "28x0");
        string emptyButHuge = Write("empty-but-huge", Idx([0, 1 << 20, 1 << 20], []));
        Fails(emptyButHuge, () => IdxReader.ReadImages(emptyButHuge), "1,048,576x1,048,576 pixels, more than any array holds");
    }

    [Fact]
    public void LabelOutOfRange()
    {
        string path = Write("labels", Idx([4], [3, 9, 10, 2]));
        Fails(path, () => IdxReader.ReadLabels(path), "label 10 at index 2 is outside 0..9");
    }

    [Fact]
    public void MissingFileAndDirectory()
    {
        string missing = Path.Combine(directory, "nothing-here");
        Fails(missing, () => IdxReader.ReadImages(missing), "no such file", "fetch-mnist.sh");
        Fails(missing, () => MnistDataSet.Load(missing), "no such directory", "fetch-mnist.sh");

        WriteSmallMnist();
        string testLabels = Path.Combine(directory, MnistDataSet.TestLabelsFile);
        File.Delete(testLabels);
        Fails(testLabels, () => MnistDataSet.Load(directory), "no such file");

        string asDirectory = Directory.CreateDirectory(Path.Combine(directory, "a-directory")).FullName;
        Fails(asDirectory, () => IdxReader.ReadLabels(asDirectory), "could not be read");
    }

    [Fact]
    public void ImageAndLabelCountsMustMatch()
    {
        WriteSmallMnist();
        string trainLabels = Write(MnistDataSet.TrainLabelsFile, Idx([4], Labels(4, 9)));
        Fails(trainLabels, () => MnistDataSet.Load(directory), "holds 4 labels but", "holds 5 images");
    }

    [Fact]
    public void SplitsMustShareTheImageSize()
    {
        WriteSmallMnist();
        string testImages = Write(MnistDataSet.TestImagesFile, Idx([3, 3, 4], Pixels(36, 8)));
        Fails(testImages, () => MnistDataSet.Load(directory), "3×4 but the training images are 4×3");
    }

    [Fact]
    public void EveryTruncationThrows()
    {
        var files = WriteSmallMnist();
        foreach (var (name, bytes) in files)
        {
            string path = Path.Combine(directory, name);
            for (int length = 0; length < bytes.Length; length++)
            {
                File.WriteAllBytes(path, bytes[..length]);
                Fails(path, () => MnistDataSet.Load(directory));
            }

            File.WriteAllBytes(path, bytes);
        }

        MnistDataSet.Load(directory);
    }

    [Fact]
    public void RandomByteFlipsLoadWhatTheBytesSayOrThrow()
    {
        var files = WriteSmallMnist();
        string[] names = [.. files.Keys];
        var random = new Random(20261126);
        int loaded = 0;
        for (int flip = 0; flip < 500; flip++)
        {
            string name = names[random.Next(names.Length)];
            string path = Path.Combine(directory, name);
            byte[] damaged = (byte[])files[name].Clone();
            damaged[random.Next(damaged.Length)] ^= (byte)random.Next(1, 256);
            File.WriteAllBytes(path, damaged);

            MnistDataSet mnist;
            try
            {
                mnist = MnistDataSet.Load(directory);
            }
            catch (DataFormatException exception)
            {
                Assert.Equal(path, exception.FilePath);
                Assert.Contains(name, exception.Message, StringComparison.Ordinal);
                continue;
            }
            finally
            {
                File.WriteAllBytes(path, files[name]);
            }

            // It loaded: only a data byte can have changed, and the loaded data is exactly the damaged file's.
            loaded++;
            byte[] Loaded(string file) => file switch
            {
                MnistDataSet.TrainImagesFile => mnist.Train.Images.Pixels,
                MnistDataSet.TrainLabelsFile => mnist.Train.Labels.Labels,
                MnistDataSet.TestImagesFile => mnist.Test.Images.Pixels,
                _ => mnist.Test.Labels.Labels,
            };
            foreach (string other in names)
            {
                byte[] expected = other == name ? damaged : files[other];
                int header = other.Contains("images", StringComparison.Ordinal) ? 16 : 8;
                Assert.Equal(files[other][..header], expected[..header]);
                Assert.Equal(expected[header..], Loaded(other));
            }
        }

        // Most flips land in pixels and load; label flips past 9 and every header flip throw.
        Assert.InRange(loaded, 100, 499);
    }
}
