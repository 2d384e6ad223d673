// CIFAR-10 binary files written record by record in a temp directory: read back in record order with the R, G, B
// planes interleaved into NHWC and normalized per channel, and every fault a DataFormatException naming the file.
using BnnDsl.Runtime.Data;

namespace BnnDsl.Runtime.Tests;

public sealed class CifarDataSetTests : IDisposable
{
    private const int Plane = 32 * 32;
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-cifar-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>One record: the label byte, then the red, green and blue planes of a 32x32 image, each row-major.</summary>
    private static byte[] Record(byte label, byte[] red, byte[] green, byte[] blue)
    {
        Assert.All(new[] { red, green, blue }, plane => Assert.Equal(Plane, plane.Length));
        return [label, .. red, .. green, .. blue];
    }

    private static byte[] RandomRecord(Random random, byte label)
    {
        var planes = new byte[3][];
        for (int c = 0; c < 3; c++)
        {
            planes[c] = new byte[Plane];
            random.NextBytes(planes[c]);
        }
        return Record(label, planes[0], planes[1], planes[2]);
    }

    private string Write(string name, params byte[][] records)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, [.. records.SelectMany(r => r)]);
        return path;
    }

    private static DataFormatException Fails(string path, Action load, params string[] phrases)
    {
        var exception = Assert.Throws<DataFormatException>(load);
        Assert.Equal(path, exception.FilePath);
        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
        foreach (string phrase in phrases)
            Assert.Contains(phrase, exception.Message, StringComparison.Ordinal);
        return exception;
    }

    [Fact]
    public void PlanesBecomeChannelsOfRowMajorPixels()
    {
        var red = new byte[Plane];
        var green = new byte[Plane];
        var blue = new byte[Plane];
        // pixel (row 0, column 1) and pixel (row 1, column 0): plane indices 1 and 32
        (red[1], green[1], blue[1]) = (10, 20, 30);
        (red[32], green[32], blue[32]) = (40, 50, 60);
        string path = Write("one.bin", Record(7, red, green, blue));

        var split = CifarDataSet.Read([path]);

        Assert.Equal(1, split.Count);
        Assert.Equal((32, 32, 3, 3072), (split.Images.Rows, split.Images.Columns, split.Images.Channels, split.Images.ValuesPerImage));
        Assert.Equal(new byte[] { 7 }, split.Labels.Labels);
        Assert.Equal(10, split.Labels.ClassCount);
        var pixels = split.Images.Pixels;
        Assert.Equal(new byte[] { 0, 0, 0, 10, 20, 30, 0, 0, 0 }, pixels[..9]);
        Assert.Equal(new byte[] { 40, 50, 60 }, pixels[(32 * 3)..(33 * 3)]);
        Assert.Equal(6, pixels.Count(b => b != 0));
    }

    [Fact]
    public void RecordsKeepTheirOrderAndEveryByteLandsInPlace()
    {
        var random = new Random(3);
        byte[][] records = [RandomRecord(random, 3), RandomRecord(random, 0), RandomRecord(random, 9)];
        var split = CifarDataSet.Read([Write("three.bin", records)]);

        Assert.Equal(new byte[] { 3, 0, 9 }, split.Labels.Labels);
        for (int r = 0; r < 3; r++)
            for (int p = 0; p < Plane; p++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(records[r][1 + c * Plane + p], split.Images.Pixels[r * 3072 + p * 3 + c]);
    }

    [Fact]
    public void NormalizesEachChannelWithTheCifarStatistics()
    {
        Assert.Equal([0.4914f, 0.4822f, 0.4465f], CifarDataSet.Mean.ToArray());
        Assert.Equal([0.2470f, 0.2435f, 0.2616f], CifarDataSet.Std.ToArray());
        var random = new Random(4);
        byte[][] records = [RandomRecord(random, 1), RandomRecord(random, 2)];
        var images = CifarDataSet.Read([Write("two.bin", records)]).Images;
        var destination = new float[2 * 3072];

        images.Normalize([1, 0], destination);

        for (int i = 0; i < 2; i++)
            for (int p = 0; p < Plane; p++)
                for (int c = 0; c < 3; c++)
                {
                    byte value = records[1 - i][1 + c * Plane + p];
                    Assert.Equal((value / 255f - CifarDataSet.Mean[c]) / CifarDataSet.Std[c], destination[i * 3072 + p * 3 + c]);
                }
        Assert.Equal([-0.4914f / 0.2470f, -0.4822f / 0.2435f, -0.4465f / 0.2616f], images.Black.ToArray());
    }

    [Fact]
    public void LoadConcatenatesTheFiveTrainingFilesInOrder()
    {
        var random = new Random(5);
        var labels = new List<byte>();
        for (int f = 0; f < 5; f++)
        {
            var records = new byte[f % 2 + 1][];
            for (int r = 0; r < records.Length; r++)
            {
                records[r] = RandomRecord(random, (byte)labels.Count);
                labels.Add(records[r][0]);
            }
            Write(CifarDataSet.TrainFiles[f], records);
        }
        Write(CifarDataSet.TestFile, RandomRecord(random, 8), RandomRecord(random, 9));

        var cifar = CifarDataSet.Load(directory);

        Assert.Equal(["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"], CifarDataSet.TrainFiles);
        Assert.Equal(labels, cifar.Train.Labels.Labels);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], labels);
        Assert.Equal(new byte[] { 8, 9 }, cifar.Test.Labels.Labels);
        Assert.Equal(7 * 3072, cifar.Train.Images.Pixels.Length);
    }

    [Fact]
    public void AMissingDirectoryListsTheFilesAndWhereToGetThem()
    {
        string missing = Path.Combine(directory, "nowhere");
        Fails(missing, () => CifarDataSet.Load(missing), "no such directory", "data_batch_1.bin", "data_batch_5.bin", "test_batch.bin",
            CifarDataSet.DownloadUrl, "data/cifar-10-batches-bin", "--data");
    }

    [Fact]
    public void AMissingFileIsNamedWithTheExpectedLayout()
    {
        var random = new Random(6);
        foreach (string name in CifarDataSet.TrainFiles.Take(4))
            Write(name, RandomRecord(random, 1));
        Write(CifarDataSet.TestFile, RandomRecord(random, 1));

        Fails(Path.Combine(directory, "data_batch_5.bin"), () => CifarDataSet.Load(directory),
            "no such file", "test_batch.bin", "3,073-byte records", "1,024 red", CifarDataSet.DownloadUrl);
    }

    [Fact]
    public void ThePythonVersionIsRecognized()
    {
        Write("data_batch_1", [0x80, 0x02]);
        var error = Fails(Path.Combine(directory, "data_batch_1.bin"), () => CifarDataSet.Load(directory), "no such file");
        Assert.Contains("Python", error.Message, StringComparison.Ordinal);
        Assert.Contains("binary version", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyFileIsRejected()
    {
        string path = Write("empty.bin");
        Fails(path, () => CifarDataSet.Read([path]), "empty", "3,073-byte records", CifarDataSet.DownloadUrl);
    }

    [Fact]
    public void ALengthThatIsNotWholeRecordsIsRejected()
    {
        var random = new Random(7);
        string path = Write("cut.bin", RandomRecord(random, 1), RandomRecord(random, 2), [1, 2, 3, 4, 5]);
        Fails(path, () => CifarDataSet.Read([path]), "6,151 bytes long", "not a whole number of 3,073-byte records",
            "2 records and 5 bytes left over", "1 label byte (0..9)", "truncated");
    }

    [Fact]
    public void CifarHundredAndGzipFilesAreRecognized()
    {
        string hundred = Write("cifar100.bin", new byte[3074 * 2]);
        Fails(hundred, () => CifarDataSet.Read([hundred]), "CIFAR-100", "2 label bytes");

        string gzip = Write("archive.bin", [0x1F, 0x8B, 0x08, 0x00, 0x00]);
        Fails(gzip, () => CifarDataSet.Read([gzip]), "gzip-compressed", "tar xzf");
    }

    [Fact]
    public void ALabelAboveNineNamesTheRecord()
    {
        var random = new Random(8);
        string path = Write("labels.bin", RandomRecord(random, 9), RandomRecord(random, 10));
        Fails(path, () => CifarDataSet.Read([path]), "record 1 (byte offset 3,073) has label 10, outside 0..9", "3,073-byte records");
    }

    [Fact]
    public void EveryFaultOfASecondFileNamesThatFile()
    {
        var random = new Random(9);
        string good = Write("good.bin", RandomRecord(random, 1));
        string bad = Write("bad.bin", RandomRecord(random, 200));
        Fails(bad, () => CifarDataSet.Read([good, bad]), "label 200");
        Assert.Throws<ArgumentException>(() => CifarDataSet.Read([]));
    }
}
