// `bnn export-onnx`: a checkpoint becomes a model ONNX Runtime runs; a bad file is one line and exit code 2.
using System.Text.Json;
using BnnDsl.Cli;

namespace BnnDsl.Onnx.Tests;

/// <summary>The export command end to end on a checkpoint of <see cref="SmallResNet"/>.</summary>
public sealed class ExportOnnxCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnn-export-onnx-").FullName;
    private readonly SmallResNet network = new(2);
    private readonly string checkpoint;

    public ExportOnnxCommandTests()
    {
        OnnxRuntimeRunner.Randomize(network, 81, dyadic: true);
        checkpoint = Path.Combine(directory, "small.safetensors");
        network.Save(checkpoint);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void ExportsTheFloatReference()
    {
        string model = Path.Combine(directory, "small.onnx");
        var (code, output, error) = Bnn("export-onnx", checkpoint, "-o", model, "--json");

        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        Assert.StartsWith($"wrote {model}: ", output);
        Assert.Contains("ONNX opset 13, float reference of SmallResNet; input 'input' N x 3 x 8 x 8 (NCHW), output 'logits'", output);
        using var json = JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]);
        Assert.Equal("export-onnx", json.RootElement.GetProperty("command").GetString());
        Assert.False(json.RootElement.GetProperty("float_peer").GetBoolean());
        Assert.Equal(new FileInfo(model).Length, json.RootElement.GetProperty("model_bytes").GetInt64());

        var input = OnnxRuntimeRunner.Input(2 * network.InputLength, 82, dyadic: true);
        network.Forward(input, training: false);
        var onnx = OnnxRuntimeRunner.Run(File.ReadAllBytes(model), network.Definition.Input, input, 2);
        Logits.AssertClose(network.Output, onnx, 2, 1e-6);
    }

    [Fact]
    public void FloatPeerLoadsInOnnxRuntime()
    {
        string model = Path.Combine(directory, "peer.onnx");
        var (code, output, _) = Bnn("export-onnx", checkpoint, "--float-peer", "-o", model);

        Assert.Equal(CommandLine.Success, code);
        Assert.Contains("float peer of SmallResNet", output);
        var logits = OnnxRuntimeRunner.Run(File.ReadAllBytes(model), network.Definition.Input, OnnxRuntimeRunner.Input(2 * network.InputLength, 83, false), 2);
        Assert.Equal(2 * 5, logits.Length);
        Assert.All(logits, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void ATruncatedCheckpointIsOneLineNamingTheFile()
    {
        string truncated = Path.Combine(directory, "truncated.safetensors");
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        string model = Path.Combine(directory, "never.onnx");
        var (code, output, error) = Bnn("export-onnx", truncated, "-o", model);

        Assert.Equal(CommandLine.FileError, code);
        Assert.Empty(output);
        Assert.StartsWith($"bnn: {truncated}: ", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void WithoutAnOutputItPrintsTheUsage()
    {
        var (code, _, error) = Bnn("export-onnx", checkpoint);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.StartsWith("bnn export-onnx: export-onnx needs -o MODEL.onnx.", error);
        Assert.Contains(CommandLine.Usage, error);
    }

    private static (int Code, string Output, string Error) Bnn(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CommandLine.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
