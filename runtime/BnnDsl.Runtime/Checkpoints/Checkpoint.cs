// Training checkpoints: named float32 parameters (weights, BatchNorm state, optimizer state) in a safetensors file.
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Checkpoints;

/// <summary>
/// Saves and loads <see cref="Parameter"/> values as F32 tensors of a safetensors file (<see cref="SafeTensorsFile"/>),
/// keyed by <see cref="Parameter.Name"/> and shaped by <see cref="Parameter.Shape"/>. The metadata carries
/// <c>format = bnndsl-checkpoint</c> and <c>format_version = 1</c> beside the caller's entries (for example the
/// network spec as <see cref="NetworkSpecJson"/>). Gradients are not saved. Optimizer state is saved by passing
/// <see cref="Optimizer.State"/> along with the network's parameters.
/// </summary>
public static class Checkpoint
{
    /// <summary>Metadata key naming the file format.</summary>
    public const string FormatKey = "format";

    /// <summary>Value of <see cref="FormatKey"/> in a checkpoint.</summary>
    public const string FormatName = "bnndsl-checkpoint";

    /// <summary>Metadata key holding the format version.</summary>
    public const string VersionKey = "format_version";

    /// <summary>The version this code writes and reads.</summary>
    public const string Version = "1";

    /// <summary>Writes <paramref name="parameters"/> (unique names) and <paramref name="metadata"/> to <paramref name="path"/>, atomically.</summary>
    /// <exception cref="ModelFileException">The file cannot be written.</exception>
    public static void Save(string path, IReadOnlyList<Parameter> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(parameters);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (key is FormatKey or VersionKey)
                throw new ArgumentException($"Metadata key '{key}' is reserved for the checkpoint format; choose another key.", nameof(metadata));
            entries[key] = value;
        }
        entries[FormatKey] = FormatName;
        entries[VersionKey] = Version;
        var tensors = new SafeTensor[parameters.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            var parameter = parameters[i] ?? throw new ArgumentException($"parameters[{i}] is null; pass only parameters.", nameof(parameters));
            tensors[i] = SafeTensor.Create<float>(parameter.Name, parameter.Shape, parameter.Value);
        }
        SafeTensorsFile.Write(path, tensors, entries);
    }

    /// <summary>
    /// Fills the values of <paramref name="into"/> from the checkpoint at <paramref name="path"/>. Every parameter must
    /// be present as an F32 tensor of the same shape; tensors the list does not name are ignored (so weights load
    /// without optimizer state). Everything is checked before any value is copied.
    /// </summary>
    /// <exception cref="ModelFileException">The file is missing, damaged, not a checkpoint, or lacks or misshapes a parameter.</exception>
    public static void Load(string path, IReadOnlyList<Parameter> into)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(into);
        var file = SafeTensorsFile.Read(path);
        CheckFormat(path, file.Metadata);
        var sources = new SafeTensor[into.Count];
        for (int i = 0; i < into.Count; i++)
        {
            var parameter = into[i] ?? throw new ArgumentException($"into[{i}] is null; pass only parameters.", nameof(into));
            if (!file.TryGet(parameter.Name, out var tensor))
                throw new ModelFileException(path, $"it has no tensor '{parameter.Name}' (expected shape [{Dims(parameter.Shape)}])",
                    "load a checkpoint written by the same network (and optimizer, when loading optimizer state)");
            if (tensor.DType != SafeTensorDType.F32 || !tensor.Shape.AsSpan().SequenceEqual(parameter.Shape))
                throw new ModelFileException(path, $"tensor '{parameter.Name}' is {tensor.DType} [{Dims(tensor.Shape)}], expected F32 [{Dims(parameter.Shape)}]",
                    "load a checkpoint written by the same network definition");
            sources[i] = tensor;
        }
        for (int i = 0; i < into.Count; i++)
            sources[i].As<float>().CopyTo(into[i].Value);
    }

    /// <summary>Reads the metadata of the checkpoint at <paramref name="path"/> (the header only), checking it is a checkpoint.</summary>
    /// <exception cref="ModelFileException">The file is missing, damaged or not a checkpoint of a supported version.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        var metadata = SafeTensorsFile.ReadMetadata(path);
        CheckFormat(path, metadata);
        return metadata;
    }

    private static void CheckFormat(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(FormatKey, out var format) || format != FormatName)
            throw new ModelFileException(path, $"it is a safetensors file but not a BnnDsl checkpoint (metadata '{FormatKey}' is {(format is null ? "missing" : $"'{format}'")})",
                "pass a checkpoint written by BnnDsl training");
        if (!metadata.TryGetValue(VersionKey, out var version) || version != Version)
            throw new ModelFileException(path, $"its checkpoint format version is {(version is null ? "missing" : $"'{version}'")}; this build reads version {Version}",
                "use the BnnDsl version that wrote it, or train again");
    }

    private static string Dims(int[] shape) => string.Join(", ", shape);
}
