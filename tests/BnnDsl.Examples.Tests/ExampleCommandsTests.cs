// The shared example command line on both programs: usage and option errors, data-set errors naming the path, the
// layer table, and training / evaluation on generated data with the curves written next to the checkpoints.
using BnnDsl.Examples.LeNet;
using BnnDsl.Examples.ResNet18;
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Examples.Tests;

public sealed class ExampleCommandsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-examples-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void BadUsageExitsWithTwoAndTheUsageWithTheDefaults()
    {
        var run = ExampleRun.Of(ResNet18Example.Definition, "fly");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown command 'fly'", run.Error);
        Assert.Contains("usage: ResNet18 <command>", run.Error);
        Assert.Contains("--synthetic N", run.Error);
        Assert.Contains("(default 100)", run.Error);
        Assert.Contains("default on", run.Error);
        Assert.Contains("data_batch_1..5.bin", run.Error);

        Assert.Contains("needs an integer of at least 1", ExampleRun.Of(ResNet18Example.Definition, "train", "--epochs", "0").Error);
        Assert.Contains("needs a positive number", ExampleRun.Of(LeNetExample.Definition, "train", "--lr", "-1").Error);
        Assert.Contains("Unknown option '--fast'", ExampleRun.Of(LeNetExample.Definition, "train", "--fast").Error);
        Assert.Contains("usage: LeNet <command>", ExampleRun.Of(LeNetExample.Definition).Error);
    }

    [Fact]
    public void OptionsStartFromTheExampleDefaults()
    {
        var resnet = ExampleOptions.Parse(["train"], ResNet18Example.Definition.Defaults);
        Assert.Equal((4, true, 128, 1e-3f, "adam", "cosine"), (resnet.MaxShift, resnet.FlipHorizontal, resnet.BatchSize, resnet.LearningRate, resnet.Optimizer, resnet.Schedule));
        Assert.Equal(Path.Combine("runs", "resnet18", "resnet18.bnnx"), resnet.ModelPath);
        Assert.Equal(Path.Combine("runs", "resnet18", "best.safetensors"), resnet.CheckpointPath);

        var lenet = ExampleOptions.Parse(["train", "--flip", "--shift", "0", "--lr", "0.01", "--weight-decay", "0.0001", "--synthetic", "50"], LeNetExample.Definition.Defaults);
        Assert.Equal((0, true, 0.01f, 1e-4f, 50), (lenet.MaxShift, lenet.FlipHorizontal, lenet.LearningRate, lenet.WeightDecay, lenet.Synthetic));
        Assert.False(ExampleOptions.Parse(["train", "--no-flip"], ResNet18Example.Definition.Defaults).FlipHorizontal);
    }

    [Fact]
    public void DeviceOptionNamesTheDevicesAndAppliesToTrain()
    {
        Assert.Equal(ComputeDeviceKind.Cpu, ExampleOptions.Parse(["train"], LeNetExample.Definition.Defaults).Device);
        Assert.Equal(ComputeDeviceKind.Cuda, ExampleOptions.Parse(["train", "--device", "cuda"], LeNetExample.Definition.Defaults).Device);
        Assert.Equal(ComputeDeviceKind.IlgpuCpu, ExampleOptions.Parse(["train", "--device", "ilgpu-cpu"], LeNetExample.Definition.Defaults).Device);
        Assert.Equal(ComputeDeviceKind.Cpu, ExampleOptions.Parse(["eval", "--device", "cpu"], LeNetExample.Definition.Defaults).Device);
        var typo = ExampleRun.Of(LeNetExample.Definition, "train", "--device", "tpu");
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains($"needs one of {ComputeDevice.Names}, not 'tpu'", typo.Error);
        Assert.Contains("--device NAME", typo.Error);
        Assert.Contains("applies to train and infer only", ExampleRun.Of(LeNetExample.Definition, "eval", "--device", "cuda").Error);
        DeviceNetwork.ThrowIfUnsupported(LeNetExample.Definition.Spec);  // every layer of both examples trains on a device
        DeviceNetwork.ThrowIfUnsupported(ResNet18Example.Definition.Spec);
        if (!ComputeDevice.Present.Contains(ComputeDeviceKind.Cuda))
        {
            var run = ExampleRun.Of(LeNetExample.Definition, "train", "--device", "cuda", "--synthetic", "20", "--out", Path.Combine(directory, "cuda"));
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("--device cpu", run.Error);
        }
    }

    [Fact]
    public void MissingCifarFilesExitWithOneNamingThePathAndTheDownload()
    {
        string missing = Path.Combine(directory, "cifar");
        var run = ExampleRun.Of(ResNet18Example.Definition, "train", "--data", missing, "--out", Path.Combine(directory, "run"));
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error: {missing}: no such directory", run.Error);
        Assert.Contains("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", run.Error);
    }

    [Fact]
    public void SummaryPrintsTheLayerTable()
    {
        var json = ExampleRun.Of(ResNet18Example.Definition, "summary", "--json").Json;
        Assert.Equal("summary", json.GetProperty("command").GetString());
        Assert.True(json.GetProperty("float_bytes").GetInt64() > 15 * json.GetProperty("model_bytes").GetInt64());
        Assert.Contains("GlobalAvgPool", ExampleRun.Of(ResNet18Example.Definition, "summary").Output);
    }

    [Fact]
    public void LeNetTrainsEvaluatesConvertsInfersAndBenchesOnGeneratedData()
    {
        string run = Path.Combine(directory, "lenet");
        var train = ExampleRun.Of(LeNetExample.Definition, "train", "--synthetic", "640", "--epochs", "2", "--batch", "32", "--out", run, "--json").Json;
        Assert.True(train.GetProperty("loss").GetDouble() < train.GetProperty("first_loss").GetDouble());
        Assert.True(train.GetProperty("best_test_accuracy").GetDouble() > 0.5);
        foreach (string file in new[] { "last.safetensors", "best.safetensors", "metrics.csv", "training.png" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);

        string[] data = ["--synthetic", "640", "--batch", "32", "--out", run, "--json"];
        var eval = ExampleRun.Of(LeNetExample.Definition, ["eval", .. data]).Json;
        Assert.Equal(train.GetProperty("best_test_accuracy").GetDouble(), eval.GetProperty("test_accuracy").GetDouble());

        var convert = ExampleRun.Of(LeNetExample.Definition, "convert", "--out", run, "--json").Json;
        Assert.Equal(Path.GetFullPath(Path.Combine(run, "lenet.bnnx")), convert.GetProperty("model").GetString());
        var infer = ExampleRun.Of(LeNetExample.Definition, ["infer", .. data]).Json;
        Assert.Equal(eval.GetProperty("test_accuracy").GetDouble(), infer.GetProperty("test_accuracy").GetDouble());
        // the same packed model on the GPU kernels (ILGPU's CPU accelerator): the same accuracy (float steps agree to rounding)
        var onDevice = ExampleRun.Of(LeNetExample.Definition, ["infer", .. data, "--device", "ilgpu-cpu", "--batch", "256"]).Json;
        Assert.Equal("ilgpu-cpu", onDevice.GetProperty("device").GetString());
        Assert.Equal(infer.GetProperty("test_accuracy").GetDouble(), onDevice.GetProperty("test_accuracy").GetDouble(), 0.01);

        var bench = ExampleRun.Of(LeNetExample.Definition, "bench", "--out", run, "--json").Json;
        Assert.True(bench.GetProperty("packed_images_per_s_batch128").GetDouble() > 0);
    }

    [Fact]
    public void ResNet18TrainsAndEvaluatesOnGeneratedData()
    {
        string run = Path.Combine(directory, "resnet18");
        var train = ExampleRun.Of(ResNet18Example.Definition, "train", "--synthetic", "32", "--epochs", "1", "--batch", "16", "--out", run, "--json").Json;
        Assert.Equal(1, train.GetProperty("epochs").GetInt32());
        Assert.True(double.IsFinite(train.GetProperty("loss").GetDouble()));
        Assert.True(File.Exists(Path.Combine(run, "training.png")));
        Assert.Equal("true", Runtime.Checkpoints.Checkpoint.ReadMetadata(Path.Combine(run, "last.safetensors"))["flip_horizontal"]);

        var eval = ExampleRun.Of(ResNet18Example.Definition, "eval", "--synthetic", "32", "--batch", "16", "--out", run, "--json").Json;
        Assert.Equal(train.GetProperty("best_test_accuracy").GetDouble(), eval.GetProperty("test_accuracy").GetDouble());
    }
}
