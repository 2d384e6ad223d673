// `bnn convert / verify / run / bench` on a small model end to end, verify's exit code 1 on a tampered model, and
// every damaged model file as one line with exit code 2.
using System.Buffers.Binary;
using System.Text.Json;
using BnnDsl.Deployment;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using static BnnDsl.Cli.Tests.CliTestKit;

namespace BnnDsl.Cli.Tests;

/// <summary>A checkpoint of a LeNet-like network in miniature, its packed model and MNIST-format test images, in a temporary directory.</summary>
public sealed class SmallModelFiles : IDisposable
{
    public SmallModelFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("bnn-cli").FullName;
        Checkpoint = Path.Combine(Directory, "small.safetensors");
        Model = Path.Combine(Directory, "small.bnnx");
        var network = new SpecNetwork(Spec, 1);
        network.Initialize(5);
        var rng = new Random(9);
        foreach (var parameter in network.Parameters)
            if (parameter.Name.EndsWith("running_mean", StringComparison.Ordinal) || parameter.Name.EndsWith("beta", StringComparison.Ordinal))
                for (int i = 0; i < parameter.Value.Length; i++)
                    parameter.Value[i] = (float)(rng.NextDouble() - 0.5);
        network.Save(Checkpoint);
        ModelConverter.Convert(Checkpoint, Model);
        ImagesCount = 130;
        WriteImages(Path.Combine(Directory, "t10k-images-idx3-ubyte"), ImagesCount, 9);
    }

    public static NetworkSpec Spec { get; } = ShapeInference.Infer(new NetworkSpec("Small", TensorShape.Image(1, 8, 8), new EquatableArray<LayerSpec>(new LayerAttribute[]
    {
        new ConvolutionAttribute(8, 3), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new QActivationAttribute(1), new FlattenAttribute(),
        new QFullyConnectedAttribute(32), new BatchNormAttribute(), new QActivationAttribute(1), new FullyConnectedAttribute(3),
        new SoftmaxCrossEntropyAttribute(),
    }.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();

    public string Directory { get; }
    public string Checkpoint { get; }
    public string Model { get; }
    public int ImagesCount { get; }
    public string Images => Path.Combine(Directory, "t10k-images-idx3-ubyte");

    /// <summary>An IDX image file of <paramref name="count"/> random 8x8 images.</summary>
    public static void WriteImages(string path, int count, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[16 + count * 64];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 8);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), 8);
        rng.NextBytes(bytes.AsSpan(16));
        File.WriteAllBytes(path, bytes);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class ModelCommandTests(SmallModelFiles files) : IClassFixture<SmallModelFiles>
{
    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;

    [Fact]
    public void ConvertWritesTheModelAndReportsSizes()
    {
        string model = Path.Combine(files.Directory, "converted.bnnx");
        var (code, output, error) = Run("convert", files.Checkpoint, "-o", model, "--json");

        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        Assert.Contains("100%", output);
        Assert.Equal(File.ReadAllBytes(files.Model), File.ReadAllBytes(model));
        var json = LastJson(output);
        Assert.Equal("convert", json.GetProperty("command").GetString());
        Assert.Equal(new FileInfo(model).Length, json.GetProperty("model_bytes").GetInt64());
        Assert.Equal(new FileInfo(files.Checkpoint).Length, json.GetProperty("checkpoint_bytes").GetInt64());
    }

    [Fact]
    public void VerifyAgreesOnEveryStep()
    {
        var (code, output, error) = Run("verify", files.Model, files.Checkpoint, "--data", files.Directory, "--json");

        Assert.True(code == CommandLine.Success, output + error);
        Assert.Empty(error);
        var model = PackedModel.Load(files.Model);
        foreach (var step in model.Steps)
            Assert.Contains(PlanStep.OpName(step.Op) + " ", output);
        Assert.DoesNotContain("MISMATCH", output);
        Assert.Contains($"predictions: {files.ImagesCount} of {files.ImagesCount} agree", output);
        var json = LastJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.Equal(files.ImagesCount, json.GetProperty("images").GetInt32());
        Assert.Equal(model.Steps.Count, json.GetProperty("steps").GetArrayLength());
        Assert.Contains(json.GetProperty("steps").EnumerateArray(), s => s.GetProperty("bits").GetBoolean() && s.GetProperty("total_bits").GetInt64() > 0);

        (code, output, _) = Run("verify", files.Model, files.Checkpoint, "--data", files.Images, "--count", "7");
        Assert.Equal(CommandLine.Success, code);
        Assert.Contains("predictions: 7 of 7 agree", output);
    }

    [Fact]
    public void VerifyReportsATamperedThresholdWithExitCode1()
    {
        var model = PackedModel.Load(files.Model);
        var tensors = model.Tensors.Select(t =>
        {
            if (t.Name != "qconv1.threshold")
                return t;
            var thresholds = t.As<int>().ToArray();
            for (int i = 0; i < thresholds.Length; i += 2)
                thresholds[i] += 9;
            return SafeTensor.Create<int>(t.Name, t.Shape, thresholds);
        }).ToList();
        var metadata = new Dictionary<string, string>(model.Metadata) { ["checksum"] = PackedModel.ComputeChecksum(tensors) };
        string tampered = Path.Combine(files.Directory, "tampered.bnnx");
        SafeTensorsFile.Write(tampered, tensors, metadata);

        var (code, output, error) = Run("verify", tampered, files.Checkpoint, "--data", files.Directory, "--json");

        Assert.Equal(CommandLine.Mismatch, code);
        Assert.Empty(error);
        var line = output.Split('\n').Single(l => l.Contains(" xnor_conv ", StringComparison.Ordinal));
        Assert.Contains("MISMATCH", line);
        Assert.Contains("verdict: MISMATCH", output);
        var steps = LastJson(output).GetProperty("steps").EnumerateArray().ToList();
        var step = steps.Single(s => s.GetProperty("op").GetString() == "xnor_conv");
        Assert.True(step.GetProperty("differing_bits").GetInt64() > 0);
        Assert.False(LastJson(output).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void VerifyRefusesAnotherNetworksCheckpoint()
    {
        string other = Path.Combine(files.Directory, "other.safetensors");
        var network = new SpecNetwork(SmallModelFiles.Spec with { Name = "Other" }, 1);
        network.Initialize(1);
        network.Save(other);

        var (code, output, error) = Run("verify", files.Model, other, "--data", files.Directory);

        Assert.Equal(CommandLine.FileError, code);
        Assert.Empty(output);
        Assert.StartsWith($"bnn: {other}", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void RunClassifiesIdxAndRawFiles()
    {
        var model = PackedModel.Load(files.Model);
        var (code, output, error) = Run("run", files.Model, files.Images);
        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(files.ImagesCount, lines.Length);
        Assert.All(lines, l => Assert.InRange(int.Parse(l, System.Globalization.CultureInfo.InvariantCulture), 0, 2));

        var samples = new float[5 * model.InputLength];
        var rng = new Random(4);
        for (int i = 0; i < samples.Length; i++)
            samples[i] = rng.NextSingle() * 2 - 0.5f;
        string raw = Path.Combine(files.Directory, "samples.f32");
        File.WriteAllBytes(raw, System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()).ToArray());
        (code, output, error) = Run("run", files.Model, raw, "--json");
        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        var json = LastJson(output);
        Assert.Equal(model.Classify(samples, 5), json.GetProperty("classes").EnumerateArray().Select(c => c.GetInt32()));

        string odd = Path.Combine(files.Directory, "odd.bin");
        File.WriteAllBytes(odd, new byte[model.InputLength * 4 + 4]);
        (code, output, error) = Run("run", files.Model, odd, "--raw");
        Assert.Equal(CommandLine.FileError, code);
        Assert.Empty(output);
        Assert.StartsWith($"bnn: {odd}", error);
        Assert.Single(error.TrimEnd().Split('\n'));

        string wrongSize = Path.Combine(files.Directory, "big-images");
        var bytes = new byte[16 + 2 * 100];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), 2);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 10);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), 10);
        File.WriteAllBytes(wrongSize, bytes);
        (code, _, error) = Run("run", files.Model, wrongSize);
        Assert.Equal(CommandLine.FileError, code);
        Assert.Contains("1x8x8", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void BenchReportsLatencyAndThroughput()
    {
        var (code, output, error) = Run("bench", files.Model, "--rounds", "1", "--seconds", "0.001", "--json");

        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        Assert.Contains("docs/PERF.md", output);
        var json = LastJson(output);
        foreach (int threads in new[] { 1, 2 })
        {
            Assert.True(json.GetProperty($"latency_ms_batch1_threads{threads}").GetDouble() > 0);
            Assert.True(json.GetProperty($"images_per_s_batch32_threads{threads}").GetDouble() > 0);
        }
    }

    public static TheoryData<string> Damages() => ["missing", "truncated", "bit-flipped", "wrong-version", "checkpoint", "text", "empty"];

    [Theory]
    [MemberData(nameof(Damages))]
    public void DamagedModelsAreOneLineAndExitCode2(string damage)
    {
        string path = Path.Combine(files.Directory, $"{damage}.bnnx");
        var bytes = File.ReadAllBytes(files.Model);
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
                break;
            case "bit-flipped":
                bytes[^17] ^= 0x04;
                File.WriteAllBytes(path, bytes);
                break;
            case "wrong-version":
                var model = PackedModel.Load(files.Model);
                SafeTensorsFile.Write(path, [.. model.Tensors], new Dictionary<string, string>(model.Metadata) { ["format_version"] = "99" });
                break;
            case "checkpoint":
                File.Copy(files.Checkpoint, path);
                break;
            case "text":
                File.WriteAllText(path, "this is not a model\n");
                break;
            case "empty":
                File.WriteAllBytes(path, []);
                break;
        }
        string[][] commands =
        [
            ["run", path, files.Images],
            ["bench", path, "--rounds", "1", "--seconds", "0.001"],
            ["verify", path, files.Checkpoint, "--data", files.Directory],
        ];
        foreach (var command in commands)
        {
            var (code, output, error) = Run(command);
            Assert.Equal(CommandLine.FileError, code);
            Assert.Empty(output);
            Assert.StartsWith($"bnn: {path}: ", error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public void ConvertOfAMissingOrPackedFileIsOneLineAndExitCode2()
    {
        foreach (string checkpoint in new[] { Path.Combine(files.Directory, "missing.safetensors"), files.Model })
        {
            string model = Path.Combine(files.Directory, "never.bnnx");
            var (code, _, error) = Run("convert", checkpoint, "-o", model);

            Assert.Equal(CommandLine.FileError, code);
            Assert.StartsWith($"bnn: {checkpoint}: ", error);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.False(File.Exists(model));
        }
    }

    [Fact]
    public void BadCommandLinesPrintTheUsage()
    {
        foreach (var args in new[] { new[] { "convert", files.Checkpoint }, ["verify", files.Model, files.Checkpoint], ["run", files.Model],
                     ["bench", files.Model, "--rounds", "zero"], ["run", files.Model, files.Images, "--frobnicate"] })
        {
            var (code, output, error) = Run(args);
            Assert.Equal(CommandLine.UsageError, code);
            Assert.Empty(output);
            Assert.StartsWith($"bnn {args[0]}: ", error);
            Assert.Contains(CommandLine.Usage, error);
        }
    }
}
