// ResNet-18 from resnet18.bnn, briefly trained on generated data, packed by `convert` and run by `infer` and `bench`:
// the packed model gives the float path's logits and classes.
using BnnDsl.Examples.ResNet18;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Examples.Tests;

/// <summary>One short training run on generated data, shared by the tests of <see cref="ResNet18PackedModelTests"/>.</summary>
public sealed class TrainedResNet18 : IDisposable
{
    public const int Synthetic = 32;

    public TrainedResNet18()
    {
        var train = ExampleRun.Of(ResNet18Example.Definition, "train", "--synthetic", $"{Synthetic}", "--epochs", "1", "--batch", "16", "--out", Run, "--json");
        Assert.Equal(0, train.ExitCode);
    }

    public string Run { get; } = Directory.CreateTempSubdirectory("bnndsl-resnet18-packed-").FullName;

    public void Dispose() => Directory.Delete(Run, recursive: true);
}

public sealed class ResNet18PackedModelTests(TrainedResNet18 trained) : IClassFixture<TrainedResNet18>
{
    private const int Synthetic = TrainedResNet18.Synthetic;
    private readonly string run = trained.Run;

    [Fact]
    public void ConvertInferAndBenchRunAndAgreeWithEval()
    {
        var convert = ExampleRun.Of(ResNet18Example.Definition, "convert", "--out", run, "--json").Json;
        long modelBytes = convert.GetProperty("model_bytes").GetInt64();
        Assert.True(modelBytes * 10 < convert.GetProperty("checkpoint_bytes").GetInt64(), $"packed {modelBytes} bytes");

        string[] data = ["--synthetic", $"{Synthetic}", "--batch", "16", "--out", run, "--json"];
        var eval = ExampleRun.Of(ResNet18Example.Definition, ["eval", .. data]).Json;
        var infer = ExampleRun.Of(ResNet18Example.Definition, ["infer", .. data]).Json;
        Assert.Equal(eval.GetProperty("test_accuracy").GetDouble(), infer.GetProperty("test_accuracy").GetDouble());

        var bench = ExampleRun.Of(ResNet18Example.Definition, "bench", "--out", run, "--json").Json;
        Assert.True(bench.GetProperty("packed_images_per_s_batch1").GetDouble() > 0);
    }

    [Fact]
    public void PackedLogitsEqualTheFloatPath()
    {
        string model = Path.Combine(run, "resnet18.bnnx");
        ModelConverter.Convert(Path.Combine(run, "best.safetensors"), model);
        var packed = PackedModel.Load(model);
        var options = ExampleOptions.Parse(["eval", "--synthetic", $"{Synthetic}"], ResNet18Example.Definition.Defaults);
        var (_, test) = ExampleCommands.LoadData(ResNet18Example.Definition, options);
        int count = test.Count;
        var input = new float[count * packed.InputLength];
        test.Images.Normalize(0, count, input);

        var network = new ResNet18.ResNet18(count);
        Checkpoint.Load(Path.Combine(run, "best.safetensors"), network.Parameters);
        network.Forward(input, training: false);
        var expected = network.Output.ToArray();
        var logits = new float[count * packed.OutputLength];
        packed.CreateSession(count).Predict(input, count, logits);

        for (int i = 0; i < logits.Length; i++)
            Assert.True(Math.Abs(logits[i] - expected[i]) <= 1e-3 * Math.Max(1, Math.Abs(expected[i])), $"logit {i}: packed {logits[i]}, float path {expected[i]}");
        var classes = packed.CreateSession(count).Classify(input, count);
        for (int s = 0; s < count; s++)
            Assert.Equal(Runtime.Training.Evaluation.ArgMax(expected.AsSpan(s * packed.OutputLength, packed.OutputLength)), classes[s]);
    }
}
