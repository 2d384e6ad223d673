// Feeds thousands of damaged copies of a valid .bnnx to PackedModel.Load: each one loads and predicts exactly as the
// original, or is rejected with ModelFileException; never another exception, a hang or an outsized allocation.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using Xunit.Abstractions;

namespace BnnDsl.Cli.Tests;

/// <summary>
/// Runs <see cref="PackedModelFuzzTests"/> alone: what one load allocates on its thread depended on what the tests
/// running beside it were doing (in CI a case measured 279 KB beside the other CLI tests and at most 186 KB alone),
/// since loads share the process's kernel workers and caches with them.
/// </summary>
[CollectionDefinition(nameof(LoaderAllocationCollection), DisableParallelization = true)]
public sealed class LoaderAllocationCollection;

[Collection(nameof(LoaderAllocationCollection))]
public sealed partial class PackedModelFuzzTests(ITestOutputHelper log)
{
    private const string Name = "fuzz.bnnx";
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The binary LeNet of the examples (random weights): the model this project deploys, a 112 KB file whose data
    /// outweighs its header as in any real model. A load may allocate at most twice the size of that file, whatever
    /// the mutation: a load copies the data block once and re-lays out some weights, and parsing the header, spec and
    /// plan costs a fixed ~70 KB, so a model much smaller than this one would exceed 2x by that fixed part.
    /// </summary>
    private static readonly NetworkSpec Spec = ShapeInference.Infer(new NetworkSpec("Fuzz", TensorShape.Image(1, 28, 28), new EquatableArray<LayerSpec>(new LayerAttribute[]
    {
        new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1), new FlattenAttribute(),
        new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1), new FullyConnectedAttribute(10),
        new SoftmaxCrossEntropyAttribute(),
    }.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();

    [Fact]
    public void EveryMutationLoadsIdenticallyOrIsRejected()
    {
        var network = new SpecNetwork(Spec, 1);
        network.Initialize(3);
        var original = ModelConverter.Convert(Spec, name => network.Parameter(name).Value);
        string path = Path.Combine(Path.GetTempPath(), $"bnn-fuzz-{Guid.NewGuid():N}.bnnx");
        byte[] valid;
        try
        {
            original.Save(path);
            valid = File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
        var rng = new Random(20261126);
        var input = new float[4 * original.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = rng.NextSingle() * 3 - 1;
        var expected = new float[4 * original.OutputLength];
        original.Predict(input, 4, expected);

        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        string header = Encoding.UTF8.GetString(valid, 8, headerEnd - 8);
        var cases = new List<(string Kind, byte[] Bytes)>();
        for (int length = 0; length <= headerEnd; length++)
            cases.Add(("truncated", valid[..length]));
        for (int i = 0; i < 500; i++)
            cases.Add(("truncated", valid[..rng.Next(headerEnd, valid.Length)]));
        for (int i = 0; i < 3000; i++)
        {
            var bytes = (byte[])valid.Clone();
            int at = i % 2 == 0 ? rng.Next(headerEnd) : rng.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << rng.Next(8));
            cases.Add(("bit flip", bytes));
        }
        for (int i = 0; i < 1500; i++)
        {
            var bytes = (byte[])valid.Clone();
            int flips = rng.Next(2, 9);
            for (int f = 0; f < flips; f++)
                bytes[i % 3 == 0 ? rng.Next(headerEnd) : rng.Next(bytes.Length)] = (byte)rng.Next(256);
            cases.Add(("byte flips", bytes));
        }
        var numbers = NumberPattern().Matches(header).ToList();
        string[] replacements = ["0", "1", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807", "99999999999999999999", "1.5", "1e3", "07"];
        for (int i = 0; i < 2500; i++)
        {
            var match = numbers[rng.Next(numbers.Count)];
            string value = i % 2 == 0
                ? replacements[rng.Next(replacements.Length)]
                : (long.Parse(match.Value, CultureInfo.InvariantCulture) + rng.Next(-3, 4)).ToString(CultureInfo.InvariantCulture);
            cases.Add(("number", WithHeader(valid, headerEnd, header[..match.Index] + value + header[(match.Index + match.Length)..], keepLength: i % 7 == 0)));
        }
        var root = JsonNode.Parse(header)!.AsObject();
        var tensorNames = root.Select(p => p.Key).Where(k => k != SafeTensorsFile.MetadataKey).ToList();
        var metadataKeys = root[SafeTensorsFile.MetadataKey]!.AsObject().Select(p => p.Key).ToList();
        for (int i = 0; i < 1500; i++)
        {
            var edited = JsonNode.Parse(header)!.AsObject();
            var metadata = edited[SafeTensorsFile.MetadataKey]!.AsObject();
            string tensor = tensorNames[rng.Next(tensorNames.Count)];
            string key = metadataKeys[rng.Next(metadataKeys.Count)];
            string kind;
            switch (i % 8)
            {
                case 0:
                    kind = "removed tensor key";
                    edited[tensor]!.AsObject().Remove(new[] { "dtype", "shape", "data_offsets" }[rng.Next(3)]);
                    break;
                case 1:
                    kind = "removed metadata key";
                    metadata.Remove(key);
                    break;
                case 2:
                    kind = "format_version";
                    metadata["format_version"] = new[] { "0", "2", "1.0", "", " 1", "01" }[rng.Next(6)];
                    break;
                case 3:
                {
                    kind = "plan text";
                    string plan = (string)metadata["plan"]!;
                    int at = rng.Next(plan.Length);
                    metadata["plan"] = plan[..at] + (char)rng.Next(32, 127) + plan[(at + 1)..];
                    break;
                }
                case 4:
                {
                    kind = "dtype swap";
                    string other = tensorNames[rng.Next(tensorNames.Count)];
                    var a = edited[tensor]!["dtype"]!.GetValue<string>();
                    edited[tensor]!["dtype"] = edited[other]!["dtype"]!.GetValue<string>();
                    edited[other]!["dtype"] = a;
                    if (rng.Next(2) == 0)
                        edited[tensor]!["dtype"] = new[] { "F32", "I32", "U64", "U8", "F16", "BOOL" }[rng.Next(6)];
                    break;
                }
                case 5:
                {
                    kind = "network text";
                    string json = (string)metadata["network"]!;
                    var match = NumberPattern().Matches(json)[rng.Next(NumberPattern().Count(json))];
                    metadata["network"] = json[..match.Index] + rng.Next(0, 80).ToString(CultureInfo.InvariantCulture) + json[(match.Index + match.Length)..];
                    break;
                }
                case 6:
                {
                    kind = "network word";
                    string json = (string)metadata["network"]!;
                    string[] words = ["Convolution", "QConvolution", "FullyConnected", "QFullyConnected", "BatchNorm", "MaxPool", "QActivation", "Flatten", "One", "Zero", "Residual", "GlobalAvgPool"];
                    string from = words[rng.Next(words.Length)], to = words[rng.Next(words.Length)];
                    int at = json.IndexOf($"\"{from}\"", StringComparison.Ordinal);
                    metadata["network"] = at < 0 ? json : json[..at] + $"\"{to}\"" + json[(at + from.Length + 2)..];
                    break;
                }
                default:
                    kind = "removed tensor";
                    edited.Remove(tensor);
                    break;
            }
            cases.Add((kind, WithHeader(valid, headerEnd, edited.ToJsonString(), keepLength: false)));
        }
        Assert.True(cases.Count >= 10_000, $"{cases.Count} cases");

        var loaded = new Dictionary<string, int>();
        var rejected = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        var logits = new float[expected.Length];
        long worst = 0;
        foreach (var (kind, bytes) in cases)
        {
            var watch = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            PackedModel? model = null;
            try
            {
                model = PackedModel.Load(bytes, Name);
            }
            catch (ModelFileException ex)
            {
                Assert.StartsWith(Name + ": ", ex.Message);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{kind}: {ex.GetType().Name} instead of ModelFileException: {ex}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            worst = Math.Max(worst, allocated);
            Assert.True(watch.Elapsed < CaseLimit, $"{kind}: Load took {watch.Elapsed.TotalSeconds:F1} s");
            long bound = 2L * Math.Max(valid.Length, bytes.Length);
            Assert.True(allocated <= bound, $"{kind}: Load of {bytes.Length:N0} bytes allocated {allocated:N0} bytes, more than twice the model's size");
            var counts = model is null ? rejected : loaded;
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            if (model is not null)
            {
                model.Predict(input, 4, logits);
                Assert.True(expected.AsSpan().SequenceEqual(logits), $"{kind}: loaded, but predicts other logits");
            }
        }
        log.WriteLine($"{cases.Count} cases in {clock.Elapsed.TotalSeconds:F1} s; file {valid.Length:N0} bytes, header {headerEnd:N0}; largest allocation of one load {worst:N0} bytes ({100.0 * worst / valid.Length:F0} % of the model)");
        foreach (var kind in cases.Select(c => c.Kind).Distinct())
            log.WriteLine($"{kind,-22} loaded {loaded.GetValueOrDefault(kind),5}  rejected {rejected.GetValueOrDefault(kind),5}");
    }

    /// <summary>The file with its header replaced by <paramref name="header"/> (padded to 8 bytes), or with only the text changed and the old length kept.</summary>
    private static byte[] WithHeader(byte[] valid, int headerEnd, string header, bool keepLength)
    {
        var text = Encoding.UTF8.GetBytes(header);
        int padded = keepLength ? text.Length : (text.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + valid.Length - headerEnd];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, keepLength ? (ulong)(headerEnd - 8) : (ulong)padded);
        bytes.AsSpan(8, padded).Fill((byte)' ');
        text.CopyTo(bytes, 8);
        valid.AsSpan(headerEnd).CopyTo(bytes.AsSpan(8 + padded));
        return bytes;
    }

    [GeneratedRegex("[0-9]+")]
    private static partial Regex NumberPattern();
}
