// Reads and writes safetensors files (the Hugging Face format Python's `safetensors` reads), checking every header field.
using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace BnnDsl.Runtime.Checkpoints;

/// <summary>
/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes
/// of UTF-8 JSON <c>{"__metadata__": {string: string}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}</c>
/// padded with spaces to a multiple of 8, then the tensors' raw little-endian bytes, offsets relative to the start of
/// that data block. Supported dtypes: F32, I32, U64, U8 (<see cref="SafeTensorDType"/>).
/// <para>
/// <see cref="Write"/> stores the tensors contiguously ordered as the reference implementation orders them: by
/// element type, widest alignment first (U64, F32, I32, U8), then by ordinal name, so every tensor's data is aligned
/// to its element size (PyTorch's loader needs that for viewing bytes as wider types); a file of F32 tensors only,
/// such as a checkpoint, is therefore in plain name order. Header entries follow the same order, metadata keys are
/// sorted by ordinal name, <c>__metadata__</c> is omitted when there is none, and the JSON is compact, so the same
/// input always gives the same bytes; it writes a temporary file in the same directory and renames it over the target, so a failed write never
/// leaves a partial file. <see cref="Read(string)"/> rejects anything that is not exactly such a file (short file, header
/// length past the end or over <see cref="MaxHeaderBytes"/>, invalid JSON, unknown dtype, duplicate names, sizes
/// that disagree with shapes, overlapping, out-of-range or non-contiguous offsets, trailing bytes) with a
/// <see cref="ModelFileException"/> naming the file.
/// </para>
/// </summary>
public sealed class SafeTensorsFile
{
    /// <summary>The largest JSON header accepted (100 MB), as the reference implementation limits it.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The header key holding string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    private const string Damaged = "the file is damaged or not a safetensors file: write it again";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    private readonly Dictionary<string, SafeTensor> _byName;

    private SafeTensorsFile(string path, SafeTensor[] tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The tensors in the order their data lies in the file.</summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="ModelFileException">The file has no such tensor.</exception>
    public SafeTensor this[string name] => TryGet(name, out var tensor) ? tensor
        : throw new ModelFileException(Path, $"it holds no tensor named '{name}'", "check the name, or that the file was written for this network");

    /// <summary>Looks up a tensor by name.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SafeTensor tensor) => _byName.TryGetValue(name, out tensor);

    /// <summary>Reads and checks a whole file; the tensors share one buffer holding the data block.</summary>
    /// <exception cref="ModelFileException">The file is missing, unreadable or not a well-formed safetensors file.</exception>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return WithFile(path, stream => ReadAll(path, stream));
    }

    /// <summary>
    /// Reads and checks a whole file held in memory (a download, an embedded resource); <paramref name="name"/> stands
    /// for the path in error messages. Nothing is copied: the tensors are views of <paramref name="bytes"/>, which must
    /// stay unchanged while they are in use.
    /// </summary>
    /// <exception cref="ModelFileException">The bytes are not a well-formed safetensors file.</exception>
    public static SafeTensorsFile Read(ReadOnlyMemory<byte> bytes, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // parsed in place and not copied, so a load allocates little beyond what its caller already holds
        long headerLength = CheckPrefix(name, bytes.Span, bytes.Length);
        var (entries, metadata) = ParseHeader(name, bytes.Slice(8, (int)headerLength), bytes.Length - 8 - headerLength);
        return Create(name, entries, metadata, bytes[(8 + (int)headerLength)..]);
    }

    private static SafeTensorsFile ReadAll(string path, Stream stream)
    {
        var (entries, metadata, dataLength) = ReadHeader(path, stream);
        if (dataLength > Array.MaxLength)
            throw new ModelFileException(path, $"its data block is {N(dataLength)} bytes, more than one array holds", "split the tensors over several files");
        var data = new byte[dataLength];
        stream.ReadExactly(data);
        return Create(path, entries, metadata, data);
    }

    private static SafeTensorsFile Create(string path, List<Entry> entries, IReadOnlyDictionary<string, string> metadata, ReadOnlyMemory<byte> data)
    {
        var tensors = new SafeTensor[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            tensors[i] = new SafeTensor(e.Name, e.DType, e.Shape, data.Slice((int)e.Begin, (int)(e.End - e.Begin)));
        }
        return new SafeTensorsFile(path, tensors, metadata);
    }

    /// <summary>Reads and checks only the header (not the data) and returns its metadata.</summary>
    /// <exception cref="ModelFileException">The file is missing, unreadable or its header is not well formed.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return WithFile(path, stream => ReadHeader(path, stream).Metadata);
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (unique, non-empty names other than <c>__metadata__</c>) and
    /// <paramref name="metadata"/> to <paramref name="path"/> through a temporary file and a rename.
    /// </summary>
    /// <exception cref="ModelFileException">The file cannot be written (missing directory, no permission, disk full).</exception>
    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var sorted = new SafeTensor[tensors.Count];
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i] = tensors[i] ?? throw new ArgumentException($"tensors[{i}] is null; pass only tensors.", nameof(tensors));
            if (sorted[i].Name == MetadataKey)
                throw new ArgumentException($"A tensor may not be named '{MetadataKey}' (the format reserves it); rename it.", nameof(tensors));
        }
        Array.Sort(sorted, (a, b) => LayoutRank(a.DType) != LayoutRank(b.DType)
            ? LayoutRank(a.DType).CompareTo(LayoutRank(b.DType))
            : string.CompareOrdinal(a.Name, b.Name));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in sorted)
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"Two tensors are named '{tensor.Name}'; names must be unique.", nameof(tensors));
        byte[] header = Header(sorted, metadata);

        AtomicFile.WriteModel(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var tensor in sorted)
                stream.Write(tensor.Data.Span);
        });
    }

    private static byte[] Header(SafeTensor[] sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var key in metadata.Keys.Order(StringComparer.Ordinal))
                    json.WriteString(key, metadata[key] ?? throw new ArgumentException($"Metadata '{key}' is null; store an empty string instead.", nameof(metadata)));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in sorted)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.ToString());
                json.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    // Data order of the reference writer: dtypes by descending alignment (its Dtype enum order), so offsets stay aligned.
    private static int LayoutRank(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.U64 => 0,
        SafeTensorDType.F32 => 1,
        SafeTensorDType.I32 => 2,
        _ => 3,
    };

    private readonly record struct Entry(string Name, SafeTensorDType DType, int[] Shape, long Begin, long End);

    private static T WithFile<T>(string path, Func<FileStream, T> read)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return read(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFileException(path, "the file does not exist", "check the path (training writes checkpoints to its output directory)", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot read the file ({ex.Message})", "check that it is readable and not being written", ex);
        }
    }

    private static (List<Entry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataLength) ReadHeader(string path, Stream stream)
    {
        long fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength >= 8)
            stream.ReadExactly(prefix);
        long headerLength = CheckPrefix(path, prefix, fileLength);
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - headerLength;
        var (entries, metadata) = ParseHeader(path, header, dataLength);
        return (entries, metadata, dataLength);
    }

    /// <summary>The header length the first 8 bytes give, checked against the limit and the <paramref name="fileLength"/>.</summary>
    private static long CheckPrefix(string path, ReadOnlySpan<byte> prefix, long fileLength)
    {
        if (fileLength < 8)
            throw new ModelFileException(path, $"it is {fileLength} bytes long, shorter than the 8-byte header length", Damaged);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new ModelFileException(path, $"its header length is {N(headerLength)} bytes, over the {N(MaxHeaderBytes)}-byte limit", Damaged);
        if ((long)headerLength > fileLength - 8)
            throw new ModelFileException(path, $"its header length is {N(headerLength)} bytes but only {N(fileLength - 8)} bytes follow the length field (truncated?)", Damaged);
        return (long)headerLength;
    }

    private static (List<Entry>, IReadOnlyDictionary<string, string>) ParseHeader(string path, ReadOnlyMemory<byte> header, long dataLength)
    {
        if (!Utf8.IsValid(header.Span))
            throw new ModelFileException(path, "its header is not valid UTF-8", Damaged);
        try
        {
            using var document = JsonDocument.Parse(header);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFileException(path, $"its header is a JSON {Kind(root)}, not an object", Damaged);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new ModelFileException(path, $"its header names '{property.Name}' twice", Damaged);
                if (property.Name == MetadataKey)
                    ReadMetadataObject(path, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }
            CheckLayout(path, entries, dataLength);
            return (entries, metadata);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string escape such as \ud800 that decodes to no valid text.
            throw new ModelFileException(path, $"its header is not valid JSON ({ex.Message})", Damaged, ex);
        }
    }

    private static void ReadMetadataObject(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFileException(path, $"its {MetadataKey} is a JSON {Kind(value)}, not an object of strings", Damaged);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new ModelFileException(path, $"metadata '{item.Name}' is a JSON {Kind(item.Value)}, not a string", Damaged);
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new ModelFileException(path, $"metadata '{item.Name}' appears twice", Damaged);
        }
    }

    private static Entry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (name.Length == 0)
            throw new ModelFileException(path, "it holds a tensor with an empty name", Damaged);
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFileException(path, $"tensor '{name}' is a JSON {Kind(value)}, not an object with dtype, shape and data_offsets", Damaged);
        if (!value.TryGetProperty("dtype", out var dtypeText) || dtypeText.ValueKind != JsonValueKind.String)
            throw new ModelFileException(path, $"tensor '{name}' has no dtype string", Damaged);
        if (!SafeTensorDTypes.TryParse(dtypeText.GetString()!, out var dtype))
            throw new ModelFileException(path, $"tensor '{name}' has dtype '{dtypeText.GetString()}', which this reader does not support",
                "store it as F32, I32, U64 or U8");
        if (!value.TryGetProperty("shape", out var shapeArray) || shapeArray.ValueKind != JsonValueKind.Array)
            throw new ModelFileException(path, $"tensor '{name}' has no shape array", Damaged);
        var shape = new int[shapeArray.GetArrayLength()];
        long elements = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            var dim = shapeArray[i];
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out shape[i]) || shape[i] < 0)
                throw new ModelFileException(path, $"tensor '{name}' has shape entry {dim.GetRawText()}, not a whole number in 0..{int.MaxValue}", Damaged);
            elements = elements > long.MaxValue / Math.Max(1, shape[i]) ? long.MaxValue : elements * shape[i];
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !TryGetNonNegativeInt64(offsets[0], out long begin) || !TryGetNonNegativeInt64(offsets[1], out long end))
            throw new ModelFileException(path, $"tensor '{name}' has no data_offsets pair of whole numbers", Damaged);
        if (end < begin)
            throw new ModelFileException(path, $"tensor '{name}' has data_offsets [{N(begin)}, {N(end)}] ending before they begin", Damaged);
        if (end > dataLength)
            throw new ModelFileException(path, $"tensor '{name}' has data_offsets [{N(begin)}, {N(end)}] past the end of the {N(dataLength)}-byte data block (truncated?)", Damaged);
        long expected = elements > long.MaxValue / dtype.Size() ? long.MaxValue : elements * dtype.Size();
        if (end - begin != expected)
            throw new ModelFileException(path, $"tensor '{name}' spans {N(end - begin)} bytes, but shape [{string.Join(", ", shape)}] of {dtype} needs {N(expected)}", Damaged);
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void CheckLayout(string path, List<Entry> entries, long dataLength)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        foreach (var entry in entries)
        {
            if (entry.Begin < position)
                throw new ModelFileException(path, $"tensor '{entry.Name}' (data_offsets [{N(entry.Begin)}, {N(entry.End)}]) overlaps the tensor before it", Damaged);
            if (entry.Begin > position)
                throw new ModelFileException(path, $"tensor '{entry.Name}' begins at data offset {N(entry.Begin)}, leaving a gap after offset {N(position)}; tensors must be contiguous", Damaged);
            position = entry.End;
        }
        if (position != dataLength)
            throw new ModelFileException(path, $"{N(dataLength - position)} bytes follow the last tensor's data", Damaged);
    }

    private static bool TryGetNonNegativeInt64(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value >= 0;
    }

    private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string N(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
