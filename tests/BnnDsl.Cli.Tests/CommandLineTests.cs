// `bnn info` reports the kernel paths, `bnn summary FILE` a model file's layer table; anything else prints the usage and exits with code 2.
using BnnDsl.Kernels.Cpu;
using static BnnDsl.Cli.Tests.CliTestKit;

namespace BnnDsl.Cli.Tests;

public class CommandLineTests
{
    [Fact]
    public void InfoPrintsKernelPathsAndProcessors()
    {
        var (code, output, error) = Run("info");

        Assert.Equal(CommandLine.Success, code);
        Assert.Empty(error);
        Assert.Contains($"best kernel path:      {KernelDispatch.Best}", output);
        Assert.Contains($"hardware paths:        {string.Join(", ", KernelDispatch.HardwarePaths)}", output);
        Assert.Contains($"Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}", output);
        Assert.Contains($"processor count:       {Environment.ProcessorCount}", output);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("info", "extra")]
    [InlineData]
    public void UnknownCommandPrintsUsageAndExitsWith2(params string[] args)
    {
        var (code, output, error) = Run(args);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.Empty(output);
        Assert.Contains(CommandLine.Usage, error);
    }

    [Fact]
    public void HelpPrintsUsage()
    {
        var (code, output, _) = Run("--help");

        Assert.Equal(CommandLine.Success, code);
        Assert.Contains(CommandLine.Usage, output);
    }

    private static NetworkSpec SmallNetwork() => new("Small", TensorShape.Image(1, 8, 8), new EquatableArray<LayerSpec>(new LayerAttribute[]
    {
        new ConvolutionAttribute(4, 3), new BatchNormAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(8, 3),
        new FlattenAttribute(), new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute(),
    }.Select(a => a.ToLayerSpec())));

    [Fact]
    public void SummaryOfACheckpointPrintsItsNetworksTable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bnn-cli-{Guid.NewGuid():N}.safetensors");
        try
        {
            var spec = SmallNetwork();
            var weight = new BnnDsl.Runtime.Training.Parameter("conv1.weight", [4, 3, 3, 1], BnnDsl.Runtime.Training.ParameterRole.Weight);
            BnnDsl.Runtime.Checkpoints.Checkpoint.Save(path, [weight],
                new Dictionary<string, string> { ["network"] = BnnDsl.Runtime.Checkpoints.NetworkSpecJson.Write(ShapeInference.Infer(spec).GetNetworkOrThrow()) });

            var (code, output, error) = Run("summary", path);

            Assert.Equal(CommandLine.Success, code);
            Assert.Empty(error);
            Assert.Equal(BnnDsl.Runtime.NetworkSummary.Create(spec).ToTable(), output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SummaryOfAMissingOrForeignFileIsOneLineAndExitCode2()
    {
        string foreign = Path.Combine(Path.GetTempPath(), $"bnn-cli-{Guid.NewGuid():N}.txt");
        File.WriteAllText(foreign, "not a model");
        try
        {
            foreach (string file in new[] { foreign, foreign + ".missing" })
            {
                var (code, output, error) = Run("summary", file);

                Assert.Equal(CommandLine.FileError, code);
                Assert.Empty(output);
                Assert.StartsWith($"bnn: {file}", error);
                Assert.Single(error.TrimEnd().Split('\n'));
            }
        }
        finally
        {
            File.Delete(foreign);
        }
    }
}
