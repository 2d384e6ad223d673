// safetensors files: round trips of every dtype, byte-for-byte determinism, a hand-computed golden file, every
// validation branch as a ModelFileException naming the file, every truncation and random damage, and atomic writes.
using System.Buffers.Binary;
using System.Text;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Tests;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bnndsl-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static SafeTensor[] AllDTypes() =>
    [
        SafeTensor.Create<float>("weights", [2, 3], [1.5f, -2f, 0f, float.Epsilon, -0f, 3.25e10f]),
        SafeTensor.Create<int>("thresholds", [4], [int.MinValue, -1, 0, int.MaxValue]),
        SafeTensor.Create<ulong>("packed", [2, 2], [0UL, ulong.MaxValue, 0x8000_0000_0000_0001UL, 42UL]),
        SafeTensor.Create<byte>("bytes", [5], [0, 1, 127, 128, 255]),
        SafeTensor.Create<float>("scalar", [], [7f]),
        SafeTensor.Create<byte>("empty", [0, 3], []),
    ];

    [Fact]
    public void EveryDTypeRoundTrips()
    {
        string path = PathOf("all.safetensors");
        var metadata = new Dictionary<string, string> { ["spec"] = "{\"name\": \"Net\"}", ["unicode"] = "µ ✓ \u00e9", ["empty"] = "" };

        SafeTensorsFile.Write(path, AllDTypes(), metadata);
        var file = SafeTensorsFile.Read(path);

        Assert.Equal(path, file.Path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(metadata, SafeTensorsFile.ReadMetadata(path));
        // Widest alignment first (U64, F32, I32, U8), then by name: every tensor's offset is a multiple of its element size.
        Assert.Equal(["packed", "scalar", "weights", "thresholds", "bytes", "empty"], file.Tensors.Select(t => t.Name));
        Assert.All(file.Tensors, t =>
        {
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(t.Data, out var segment));
            Assert.Equal(0, segment.Offset % t.DType.Size());
        });
        foreach (var expected in AllDTypes())
        {
            var actual = file[expected.Name];
            Assert.Equal(expected.DType, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
        }
        Assert.Equal([1.5f, -2f, 0f, float.Epsilon, -0f, 3.25e10f], file["weights"].As<float>().ToArray());
        Assert.Equal([int.MinValue, -1, 0, int.MaxValue], file["thresholds"].As<int>().ToArray());
        Assert.Equal([0UL, ulong.MaxValue, 0x8000_0000_0000_0001UL, 42UL], file["packed"].As<ulong>().ToArray());
        Assert.Equal(1, file["scalar"].Elements);
        Assert.Throws<InvalidOperationException>(() => file["weights"].As<int>().Length);
    }

    [Fact]
    public void EmptyMetadataAndNoTensorsRoundTrip()
    {
        string path = PathOf("empty.safetensors");

        SafeTensorsFile.Write(path, [], new Dictionary<string, string>());
        var file = SafeTensorsFile.Read(path);

        Assert.Empty(file.Metadata);
        Assert.Empty(file.Tensors);
        // "{}" padded to 8 bytes, no data.
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8], File.ReadAllBytes(path));
    }

    [Fact]
    public void SameInputGivesSameBytes()
    {
        var metadata = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };
        var reordered = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" };

        SafeTensorsFile.Write(PathOf("one"), AllDTypes(), metadata);
        SafeTensorsFile.Write(PathOf("two"), AllDTypes().Reverse().ToArray(), reordered);
        SafeTensorsFile.Write(PathOf("two"), AllDTypes(), metadata);

        byte[] bytes = File.ReadAllBytes(PathOf("one"));
        Assert.Equal(bytes, File.ReadAllBytes(PathOf("two")));
        Assert.Equal(0, BinaryPrimitives.ReadInt64LittleEndian(bytes) % 8);
        Assert.Equal(["one", "two"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void GoldenFileMatchesTheFormatByteForByte()
    {
        string path = PathOf("golden.safetensors");

        SafeTensorsFile.Write(path, [SafeTensor.Create<byte>("b", [3], [1, 2, 3]), SafeTensor.Create<float>("a", [1], [1f])],
            new Dictionary<string, string> { ["k"] = "v" });

        // The JSON header is 131 bytes; padded with 5 spaces to 136 = 0x88, a multiple of 8. Tensors in name order:
        // "a" = 1.0f (00 00 80 3F little-endian) at [0, 4), then "b" = 01 02 03 at [4, 7).
        const string Header = """{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[3],"data_offsets":[4,7]}}     """;
        byte[] expected = [0x88, 0, 0, 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(Header), 0x00, 0x00, 0x80, 0x3F, 0x01, 0x02, 0x03];
        Assert.Equal(136, Header.Length);
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void FilesWrittenByOtherWritersAreRead()
    {
        // Header key order, whitespace and an empty __metadata__ as other writers may produce them.
        string path = Raw("other", """ { "b" : {"data_offsets":[0,1],"dtype":"U8","shape":[1]}, "__metadata__":{}, "a":{"dtype":"U8","shape":[],"data_offsets":[1,2]} } """, [9, 8]);

        var file = SafeTensorsFile.Read(path);

        Assert.Equal(["b", "a"], file.Tensors.Select(t => t.Name));
        Assert.Equal([8], file["a"].Data.ToArray());
        Assert.Empty(file.Metadata);
    }

    public static TheoryData<string, string, byte[], string> Damaged() => new()
    {
        { "bad JSON", "{\"a\": ", [], "not valid JSON" },
        { "header is an array", "[]", [], "not an object" },
        { "lone surrogate escape", """{"\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [1], "not valid JSON" },
        { "duplicate key", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [1], "twice" },
        { "metadata not object", """{"__metadata__":[]}""", [], "__metadata__" },
        { "metadata value not string", """{"__metadata__":{"x":1}}""", [], "not a string" },
        { "tensor not object", """{"a":3}""", [], "not an object" },
        { "empty name", """{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [1], "empty name" },
        { "unknown dtype", """{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}""", [1, 2], "'F16'" },
        { "missing dtype", """{"a":{"shape":[1],"data_offsets":[0,1]}}""", [1], "dtype" },
        { "missing shape", """{"a":{"dtype":"U8","data_offsets":[0,1]}}""", [1], "shape" },
        { "negative dimension", """{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}""", [1], "shape entry -1" },
        { "fractional dimension", """{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}""", [1], "shape entry 1.5" },
        { "huge dimension", """{"a":{"dtype":"U8","shape":[4294967296],"data_offsets":[0,1]}}""", [1], "shape entry" },
        { "missing offsets", """{"a":{"dtype":"U8","shape":[1]}}""", [1], "data_offsets" },
        { "three offsets", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}}""", [1], "data_offsets" },
        { "negative offset", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}""", [1], "data_offsets" },
        { "end before begin", """{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}""", [1], "ending before" },
        { "shape disagrees with size", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", [1, 2, 3, 4], "needs 8" },
        { "overflowing shape", """{"a":{"dtype":"U64","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}""", new byte[8], "needs" },
        { "offset past the data", """{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", [1, 2], "past the end" },
        { "overlap", """{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}""", [1, 2, 3], "overlaps" },
        { "gap", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}""", [1, 2, 3], "gap" },
        { "not from zero", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", [1, 2], "gap" },
        { "trailing bytes", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [1, 2, 3], "2 bytes follow" },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public void DamagedHeadersAreRejected(string name, string header, byte[] data, string fault)
    {
        string path = Raw(name, header, data);

        var error = AssertRejected(path);

        Assert.Contains(fault, error.Message);
    }

    [Fact]
    public void BadLengthFieldsAreRejected()
    {
        string shortFile = PathOf("short");
        File.WriteAllBytes(shortFile, [1, 2, 3, 4, 5]);
        Assert.Contains("shorter than the 8-byte", AssertRejected(shortFile).Message);

        string huge = PathOf("huge");
        File.WriteAllBytes(huge, [.. BitConverter.GetBytes(100_000_001UL), .. "{}"u8]);
        Assert.Contains("over the 100,000,000-byte limit", AssertRejected(huge).Message);

        string past = PathOf("past");
        File.WriteAllBytes(past, [.. BitConverter.GetBytes(64UL), .. "{}"u8]);
        Assert.Contains("only 2 bytes follow", AssertRejected(past).Message);

        string invalidUtf8 = PathOf("utf8");
        File.WriteAllBytes(invalidUtf8, [.. BitConverter.GetBytes(8UL), (byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        Assert.Contains("not valid UTF-8", AssertRejected(invalidUtf8).Message);
    }

    [Fact]
    public void MissingFileIsAModelFileException()
    {
        string path = PathOf("absent.safetensors");

        var error = AssertRejected(path);
        Assert.Contains("does not exist", error.Message);
        AssertRejected(Path.Combine(_directory, "no-such-dir", "x.safetensors"));
        Assert.Throws<ModelFileException>(() => SafeTensorsFile.ReadMetadata(path));
    }

    [Fact]
    public void EveryTruncationIsRejected()
    {
        string path = PathOf("full");
        SafeTensorsFile.Write(path, AllDTypes(), new Dictionary<string, string> { ["k"] = "value" });
        byte[] bytes = File.ReadAllBytes(path);
        string cut = PathOf("cut");

        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(cut, bytes.AsSpan(0, length).ToArray());
            AssertRejected(cut);
        }
    }

    [Fact]
    public void RandomDamageLoadsOrThrowsModelFileException()
    {
        string path = PathOf("full");
        SafeTensorsFile.Write(path, AllDTypes(), new Dictionary<string, string> { ["k"] = "value" });
        byte[] bytes = File.ReadAllBytes(path);
        string damaged = PathOf("damaged");
        var random = new Random(7);

        for (int trial = 0; trial < 400; trial++)
        {
            byte[] copy = (byte[])bytes.Clone();
            int position = trial < 200 ? random.Next(0, 8 + 200) : random.Next(copy.Length);
            copy[position] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(damaged, copy);
            try
            {
                var file = SafeTensorsFile.Read(damaged);
                Assert.Equal(copy.Length - 8 - BitConverter.ToInt64(copy), file.Tensors.Sum(t => t.Data.Length));
            }
            catch (ModelFileException error)
            {
                Assert.Equal(damaged, error.Path);
            }
        }
    }

    [Fact]
    public void FailedWriteLeavesNoFile()
    {
        string missingDirectory = Path.Combine(_directory, "no-such-dir", "model.safetensors");

        var error = Assert.Throws<ModelFileException>(() => SafeTensorsFile.Write(missingDirectory, AllDTypes()));

        Assert.Equal(missingDirectory, error.Path);
        Assert.StartsWith(missingDirectory + ": cannot write", error.Message);
        Assert.False(File.Exists(missingDirectory));

        // The target is a directory: the temporary file is written, the rename fails, and the temporary file is removed.
        string blocked = PathOf("blocked");
        Directory.CreateDirectory(blocked);
        Assert.Throws<ModelFileException>(() => SafeTensorsFile.Write(blocked, AllDTypes()));
        Assert.True(Directory.Exists(blocked));
        Assert.Equal(["blocked"], Directory.GetFileSystemEntries(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void WriterRejectsBadTensors()
    {
        string path = PathOf("bad");
        var a = SafeTensor.Create<byte>("a", [1], [1]);

        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [a, SafeTensor.Create<byte>("a", [1], [2])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [SafeTensor.Create<byte>("__metadata__", [1], [2])]));
        Assert.Throws<ArgumentException>(() => new SafeTensor("x", SafeTensorDType.F32, [2], new byte[7]));
        Assert.Throws<ArgumentException>(() => new SafeTensor("x", SafeTensorDType.U8, [-1], new byte[0]));
        Assert.False(File.Exists(path));
    }

    private string Raw(string name, string header, byte[] data)
    {
        string path = PathOf(name.Replace(' ', '-'));
        byte[] json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data]);
        return path;
    }

    private static ModelFileException AssertRejected(string path)
    {
        var error = Assert.Throws<ModelFileException>(() => SafeTensorsFile.Read(path));
        Assert.Equal(path, error.Path);
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains("; ", error.Message[(path.Length + 2)..]);
        return error;
    }
}
