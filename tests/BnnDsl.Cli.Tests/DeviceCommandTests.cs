// `--device` on run, verify and bench: ilgpu-cpu (the GPU kernels on the CPU) agrees with the cpu device, and an
// unknown device is a usage error and an absent one a line naming the fix, both exit code 2.
using System.Text.Json;
using BnnDsl.Runtime.Devices;
using static BnnDsl.Cli.Tests.CliTestKit;

namespace BnnDsl.Cli.Tests;

public sealed class DeviceCommandTests(SmallModelFiles files) : IClassFixture<SmallModelFiles>
{
    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;

    [Fact]
    public void RunOnTheDeviceClassifiesAsOnTheCpu()
    {
        var (code, cpu, error) = Run("run", files.Model, files.Images, "--device", "cpu");
        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        (code, var device, error) = Run("run", files.Model, files.Images, "--device", "ilgpu-cpu");
        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        Assert.Equal(cpu, device);
        Assert.Equal(files.ImagesCount, device.TrimEnd().Split('\n').Length);
    }

    [Fact]
    public void VerifyOnTheDeviceAgreesOnEveryStep()
    {
        var (code, output, error) = Run("verify", files.Model, files.Checkpoint, "--data", files.Images, "--count", "12", "--device", "ilgpu-cpu", "--json");

        Assert.True(code == CommandLine.Success, output + error);
        Assert.Empty(error);
        Assert.Contains("ilgpu-cpu", output.Split('\n')[0]);
        Assert.DoesNotContain("MISMATCH", output);
        Assert.Contains("predictions: 12 of 12 agree", output);
        var json = LastJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.Equal("ilgpu-cpu", json.GetProperty("device").GetString());
    }

    [Fact]
    public void BenchOnTheDeviceReportsOneRow()
    {
        var (code, output, error) = Run("bench", files.Model, "--rounds", "1", "--seconds", "0.001", "--device", "ilgpu-cpu", "--json");

        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        var json = LastJson(output);
        Assert.Equal("ilgpu-cpu", json.GetProperty("device").GetString());
        Assert.True(json.GetProperty("latency_ms_batch1").GetDouble() > 0);
        Assert.True(json.GetProperty("images_per_s_batch32").GetDouble() > 0);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("bench")]
    [InlineData("verify")]
    public void AnUnknownDeviceIsAUsageErrorNamingTheChoices(string command)
    {
        string[] args = command switch
        {
            "run" => ["run", files.Model, files.Images, "--device", "tpu"],
            "bench" => ["bench", files.Model, "--device", "tpu"],
            _ => ["verify", files.Model, files.Checkpoint, "--data", files.Images, "--device", "tpu"],
        };
        var (code, output, error) = Run(args);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.Empty(output);
        Assert.StartsWith($"bnn {command}: option --device takes one of {ComputeDevice.Names}, not 'tpu'.", error);
        Assert.Contains(CommandLine.Usage, error);
    }

    [Fact]
    public void CudaWithoutAGpuIsOneLineNamingTheFix()
    {
        if (ComputeDevice.Present.Contains(ComputeDeviceKind.Cuda))
            return;
        var (code, output, error) = Run("run", files.Model, files.Images, "--device", "cuda");

        Assert.Equal(CommandLine.FileError, code);
        Assert.Empty(output);
        Assert.Contains("Device 'cuda' cannot be opened", error);
        Assert.Contains("--device cpu", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}
