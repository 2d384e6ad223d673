// A packed deployment model (.bnnx): the network spec, the fused plan and its tensors, checked on load, ready to run.
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// A converted network (see <see cref="ModelConverter"/>): a safetensors container whose metadata holds
/// <c>format = bnnx</c>, <c>format_version = 2</c> (1 is still read, see <see cref="PreviousFormatVersion"/>), <c>producer</c>, <c>network</c> (the spec as compact JSON, shapes left out and inferred on load),
/// <c>plan</c> (<see cref="ModelPlanner.Text"/>) and <c>checksum</c> (SHA-256, see <see cref="ComputeChecksum"/>);
/// its tensors are exactly those <see cref="ModelPlanner.Tensors"/> lists. Loading checks all of it. The model is
/// immutable and thread-safe: <see cref="Predict"/> and <see cref="Classify(ReadOnlySpan{float}, int, Span{int})"/>
/// may run concurrently (each call borrows its own <see cref="InferenceSession"/> from a pool); for the lowest
/// overhead, give each thread its own session from <see cref="CreateSession"/>.
/// </summary>
public sealed class PackedModel
{
    /// <summary>Value of the <c>format</c> metadata.</summary>
    public const string FormatName = "bnnx";

    /// <summary>The format version this code writes (2: plans with residual adds, k-bit steps and folded float BatchNorms).</summary>
    public const string FormatVersion = "2";

    /// <summary>
    /// The older version this code still reads: a version-1 file loads when its plan text is the one this version
    /// derives (networks without residual blocks, k-bit layers or a binary layer's float BatchNorm), else it is
    /// refused as a plan mismatch.
    /// </summary>
    public const string PreviousFormatVersion = "1";

    /// <summary>Samples per pooled session of <see cref="Predict"/>.</summary>
    public const int PooledBatchSize = 128;

    private const string ReconvertFix = "convert the checkpoint again (ModelConverter.Convert or 'bnn convert')";

    private readonly Dictionary<string, SafeTensor> byName;
    private readonly Stack<InferenceSession> pool = new();

    private PackedModel(NetworkSpec network, IReadOnlyList<PlanStep> steps, IReadOnlyList<SafeTensor> tensors,
        IReadOnlyDictionary<string, string> metadata, string source)
    {
        Network = network;
        Steps = steps;
        Tensors = tensors;
        Metadata = metadata;
        Source = source;
        byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Data = [.. steps.Select(Prepare)];
        InputLength = (int)network.Input.Elements;
        MacsPerSample = NetworkSummary.Create(network).Macs;
        OutputLength = (int)steps[^1].Output.Elements;
    }

    /// <summary>The network as declared, shapes inferred.</summary>
    public NetworkSpec Network { get; }

    /// <summary>The fused operations, in order.</summary>
    public IReadOnlyList<PlanStep> Steps { get; }

    /// <summary>The tensors (packed weights, thresholds, float weights, scales and shifts).</summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The metadata written to the file (format, version, producer, network, plan, checksum).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The file or name the model came from.</summary>
    public string Source { get; }

    /// <summary>Floats of one input sample (NHWC, channels × height × width of <see cref="NetworkSpec.Input"/>).</summary>
    public int InputLength { get; }

    /// <summary>Floats of one output sample (the logits).</summary>
    public int OutputLength { get; }

    /// <summary>Total bytes of tensor data.</summary>
    public long DataBytes => Tensors.Sum(t => (long)t.Data.Length);

    internal PackedStepWeights[] Data { get; }

    /// <summary>
    /// The tensors of step <paramref name="step"/> of <see cref="Steps"/>, decoded once when the model loaded (the
    /// objects the interpreter runs): generated packed classes (<see cref="PackedNetwork"/>) take their weights from here.
    /// </summary>
    public PackedStepWeights StepWeights(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, Data.Length);
        return Data[step];
    }

    /// <summary>Multiply-accumulates per sample (as <see cref="NetworkSummary.Macs"/> counts them), for the interpreter's lane split.</summary>
    internal long MacsPerSample { get; }

    /// <summary>Loads and checks the packed model at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file is missing, damaged, not a packed model, of another version, inconsistent with its network, or fails its checksum.</exception>
    public static PackedModel Load(string path) => FromFile(SafeTensorsFile.Read(path), path);

    /// <summary>
    /// Loads and checks a packed model held in memory; <paramref name="name"/> names it in error messages. The bytes
    /// are not copied: the model's <see cref="Tensors"/> are views of them, so keep them unchanged while the model is
    /// in use (the kernels run on weights decoded at load, but <see cref="Save"/> and verification read the tensors).
    /// </summary>
    /// <exception cref="ModelFileException">The bytes are not a valid packed model (see <see cref="Load(string)"/>).</exception>
    public static PackedModel Load(ReadOnlyMemory<byte> bytes, string name) => FromFile(SafeTensorsFile.Read(bytes, name), name);

    /// <summary>Writes the model to <paramref name="path"/> (temporary file + rename; the same model always gives the same bytes).</summary>
    /// <exception cref="ModelFileException">The file cannot be written.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeTensorsFile.Write(path, [.. Tensors], Metadata);
    }

    /// <summary>
    /// A session running up to <paramref name="batchSize"/> samples per kernel call (larger counts run in chunks),
    /// with its own buffers; use one per thread. With <paramref name="keepStepOutputs"/> every step keeps its output
    /// (for <see cref="InferenceSession.StepBits"/> and <see cref="InferenceSession.StepFloats"/>, at the cost of
    /// memory); otherwise steps reuse buffers whose readers have run.
    /// </summary>
    public InferenceSession CreateSession(int batchSize = PooledBatchSize, KernelPath path = KernelPath.Auto, int threads = 0, bool keepStepOutputs = false) =>
        new(this, batchSize, path, threads, keepStepOutputs);

    /// <summary>
    /// Writes the logits of <paramref name="count"/> samples (<paramref name="input"/>: count × <see cref="InputLength"/>
    /// floats, NHWC) to <paramref name="logits"/> (count × <see cref="OutputLength"/>). Thread-safe.
    /// </summary>
    public void Predict(ReadOnlySpan<float> input, int count, Span<float> logits)
    {
        var session = Rent();
        try
        {
            session.Predict(input, count, logits);
        }
        finally
        {
            Return(session);
        }
    }

    /// <summary>The predicted class (index of the largest logit) of each of <paramref name="count"/> samples. Thread-safe.</summary>
    public void Classify(ReadOnlySpan<float> input, int count, Span<int> classes)
    {
        var session = Rent();
        try
        {
            session.Classify(input, count, classes);
        }
        finally
        {
            Return(session);
        }
    }

    /// <summary>The predicted classes of <paramref name="count"/> samples, as a new array. Thread-safe.</summary>
    public int[] Classify(ReadOnlySpan<float> input, int count)
    {
        var classes = new int[Math.Max(0, count)];
        Classify(input, count, classes);
        return classes;
    }

    /// <summary>
    /// The checksum stored in the <c>checksum</c> metadata: SHA-256, lower-case hex, over every tensor in ordinal
    /// name order, each contributing its UTF-8 name, one zero byte, and its data bytes.
    /// </summary>
    public static string ComputeChecksum(IEnumerable<SafeTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var tensor in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(tensor.Name));
            hash.AppendData([0]);
            hash.AppendData(tensor.Data.Span);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>"BnnDsl {version}" of the runtime assembly.</summary>
    public static string Producer => $"BnnDsl {typeof(PackedModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0"}";

    internal static PackedModel Create(NetworkSpec spec, IReadOnlyList<PlanStep> steps, List<SafeTensor> tensors, string source)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Checkpoint.FormatKey] = FormatName,
            [Checkpoint.VersionKey] = FormatVersion,
            ["producer"] = Producer,
            ["network"] = NetworkSpecJson.Write(spec, compact: true),
            ["plan"] = ModelPlanner.Text(steps),
            ["checksum"] = ComputeChecksum(tensors),
        };
        return new PackedModel(spec, steps, [.. tensors.OrderBy(t => t.Name, StringComparer.Ordinal)], metadata, source);
    }

    private static PackedModel FromFile(SafeTensorsFile file, string path)
    {
        var metadata = file.Metadata;
        string? Meta(string key) => metadata.TryGetValue(key, out var value) ? value : null;
        if (Meta(Checkpoint.FormatKey) is var format && format != FormatName)
            throw new ModelFileException(path, $"it is not a packed BnnDsl model (metadata '{Checkpoint.FormatKey}' is {(format is null ? "missing" : $"'{format}'")}, expected '{FormatName}')",
                format == Checkpoint.FormatName ? "it is a training checkpoint: convert it first (ModelConverter.Convert or 'bnn convert')" : ReconvertFix);
        if (Meta(Checkpoint.VersionKey) is var version && version != FormatVersion && version != PreviousFormatVersion)
            throw new ModelFileException(path, $"its format version is {(version is null ? "missing" : $"'{version}'")}; this build reads versions {PreviousFormatVersion} and {FormatVersion}",
                "use the BnnDsl version that wrote it, or " + ReconvertFix);
        var json = Meta("network") ?? throw new ModelFileException(path, "its metadata has no 'network' entry", ReconvertFix);
        var spec = NetworkSpecJson.Read(json, path);
        if (spec.Layers.All(l => !l.InputShape.IsKnown && !l.OutputShape.IsKnown))
        {
            // a compact description (version 2 writes no layer shapes): shape inference restores them
            InferenceResult inferred;
            try
            {
                inferred = ShapeInference.Infer(spec);
            }
            catch (OverflowException ex)
            {
                throw new ModelFileException(path, "its network description has sizes whose shapes overflow 32-bit integers", ReconvertFix, ex);
            }
            if (!inferred.Succeeded)
                throw new ModelFileException(path, $"its network description is not a valid network ({inferred.Diagnostics[0].Id}: {inferred.Diagnostics[0].Message})", ReconvertFix);
            spec = inferred.Network;
        }
        IReadOnlyList<PlanStep> steps;
        try
        {
            steps = ModelPlanner.Plan(spec);
        }
        catch (NotSupportedException ex)
        {
            throw new ModelFileException(path, ex.Message, "use a BnnDsl version that runs this network", ex);
        }
        catch (ArgumentException ex)
        {
            throw new ModelFileException(path, $"its network description is inconsistent ({ex.Message})", ReconvertFix, ex);
        }
        if (Meta("plan") != ModelPlanner.Text(steps))
            throw new ModelFileException(path, "its plan does not match the plan this version derives from its network", ReconvertFix);
        var expected = ModelPlanner.Tensors(steps);
        foreach (var (name, dtype, shape) in expected)
        {
            if (!file.TryGet(name, out var tensor))
                throw new ModelFileException(path, $"it has no tensor '{name}' ({dtype} [{string.Join(", ", shape)}])", ReconvertFix);
            if (tensor.DType != dtype || !tensor.Shape.AsSpan().SequenceEqual(shape))
                throw new ModelFileException(path, $"tensor '{name}' is {tensor.DType} [{string.Join(", ", tensor.Shape)}], expected {dtype} [{string.Join(", ", shape)}]", ReconvertFix);
        }
        if (file.Tensors.Count != expected.Count)
        {
            var known = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            string extra = file.Tensors.First(t => !known.Contains(t.Name)).Name;
            throw new ModelFileException(path, $"it holds tensor '{extra}', which its plan does not use", ReconvertFix);
        }
        string checksum = ComputeChecksum(file.Tensors);
        if (Meta("checksum") is var stored && stored != checksum)
            throw new ModelFileException(path, $"its checksum is {(stored is null ? "missing" : $"'{stored}'")} but its data hashes to '{checksum}' (the data is damaged)", ReconvertFix);
        return new PackedModel(spec, steps, [.. file.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal)], metadata, path);
    }

    private float[] Floats(string name) => byName[name].As<float>().ToArray();

    private PackedStepWeights Prepare(PlanStep step)
    {
        var data = new PackedStepWeights();
        var layer = step.Spec;
        switch (step.Op)
        {
            case PlanOp.FloatConv:
            {
                var input = layer!.InputShape;
                var image = new Conv2dShape(1, input.Height, input.Width, input.Channels, layer.Units, layer.Kernel, layer.Kernel,
                    layer.Stride, layer.Stride, layer.Pad, layer.Pad);
                data.Conv = new FloatConvWeights(image, Floats($"{step.Layer}.weight"), step.Bias ? Floats($"{step.Layer}.bias") : null,
                    step.Norm is null ? null : Floats($"{step.Norm}.scale"), step.Norm is null ? null : Floats($"{step.Norm}.shift"));
                break;
            }
            case PlanOp.FloatDense or PlanOp.BitsDense:
                data.Weight = Floats($"{step.Layer}.weight");
                data.Bias = step.Bias ? Floats($"{step.Layer}.bias") : [];
                break;
            case PlanOp.Affine:
                data.Scale = Floats($"{step.Layer}.scale");
                data.Shift = Floats($"{step.Layer}.shift");
                break;
            case PlanOp.XnorConv:
            {
                var packed = byName[$"{step.Layer}.packed_weight"].As<ulong>();
                data.ConvWeights = BinaryConvWeights.FromPacked(packed, layer!.Units, layer.Kernel, layer.Kernel, layer.InputShape.Channels);
                SetXnorOutput(data, step, layer.Units);
                break;
            }
            case PlanOp.XnorDense:
            {
                int inputs = (int)step.Input.Elements;
                var packed = byName[$"{step.Layer}.packed_weight"].As<ulong>();
                data.DenseWeights = XnorPackedB.Pack(packed, layer!.Units, SignPacking.WordsFor(inputs), inputs);
                SetXnorOutput(data, step, layer.Units);
                break;
            }
            case PlanOp.BitSerialConv or PlanOp.BitSerialDense:
            {
                int k = ModelPlanner.PatchLength(step), bits = layer!.WeightBits;
                var weights = BitSerialPackedB.PackCodes(Codes(byName[$"{step.Layer}.packed_weight"].As<ulong>(), layer.Units, k, bits), layer.Units, k, bits);
                var input = layer.InputShape;
                var image = step.Op == PlanOp.BitSerialConv
                    ? new Conv2dShape(1, input.Height, input.Width, input.Channels, layer.Units, layer.Kernel, layer.Kernel, layer.Stride, layer.Stride, layer.Pad, layer.Pad)
                    : default;
                data.BitSerial = new BitSerialWeights(weights, step.Bits, image,
                    step.Norm is null ? null : Floats($"{step.Norm}.scale"), step.Norm is null ? null : Floats($"{step.Norm}.shift"));
                break;
            }
        }
        return data;
    }

    /// <summary>The weight codes of <paramref name="rows"/> rows of <paramref name="k"/> weights stored as <paramref name="bits"/> planes per row.</summary>
    private static byte[] Codes(ReadOnlySpan<ulong> planes, int rows, int k, int bits)
    {
        int words = BitPlanes.WordsFor(k), rowWords = bits * words;
        var codes = new byte[rows * k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
            {
                int code = 0;
                for (int i = 0; i < bits; i++)
                    code |= (int)((planes[r * rowWords + i * words + (c >> 6)] >> (c & 63)) & 1) << i;
                codes[r * k + c] = (byte)code;
            }
        return codes;
    }

    /// <summary>An XNOR step's output stage: its thresholds, its folded BatchNorm's scale and shift, or ones and zeros for the bare dot products.</summary>
    private void SetXnorOutput(PackedStepWeights data, PlanStep step, int units)
    {
        if (step.OutputBits)
        {
            data.Threshold = byName[$"{step.Layer}.threshold"].As<int>().ToArray();
            return;
        }
        if (step.Norm is not null)
        {
            data.Scale = Floats($"{step.Norm}.scale");
            data.Shift = Floats($"{step.Norm}.shift");
            return;
        }
        data.Scale = new float[units];
        data.Scale.AsSpan().Fill(1f);
        data.Shift = new float[units];
    }

    private InferenceSession Rent()
    {
        lock (pool)
            if (pool.Count > 0)
                return pool.Pop();
        return CreateSession();
    }

    private void Return(InferenceSession session)
    {
        lock (pool)
            pool.Push(session);
    }
}

/// <summary>
/// A plan step's tensors, decoded once per model and shared, read-only, by every session and generated packed class;
/// which members a step fills depends on its <see cref="PlanOp"/> (the others stay empty or null).
/// </summary>
public sealed class PackedStepWeights
{
    /// <summary>Float dense weights [units, inputs] (FloatDense, BitsDense).</summary>
    public float[] Weight { get; internal set; } = [];

    /// <summary>Float dense bias, empty for none (FloatDense, BitsDense).</summary>
    public float[] Bias { get; internal set; } = [];

    /// <summary>Per-channel scale: an Affine step's, or an XNOR step's float output stage (a folded BatchNorm, or ones).</summary>
    public float[] Scale { get; internal set; } = [];

    /// <summary>Per-channel shift or bias matching <see cref="Scale"/>.</summary>
    public float[] Shift { get; internal set; } = [];

    /// <summary>Integer thresholds of an XNOR step writing bits.</summary>
    public int[] Threshold { get; internal set; } = [];

    /// <summary>A FloatConv step's weights and fused epilogue.</summary>
    public FloatConvWeights? Conv { get; internal set; }

    /// <summary>A BitSerialConv or BitSerialDense step's weights.</summary>
    public BitSerialWeights? BitSerial { get; internal set; }

    /// <summary>An XnorConv step's packed filters.</summary>
    public BinaryConvWeights? ConvWeights { get; internal set; }

    /// <summary>An XnorDense step's packed weights.</summary>
    public XnorPackedB? DenseWeights { get; internal set; }
}
