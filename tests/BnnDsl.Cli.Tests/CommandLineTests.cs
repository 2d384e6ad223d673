// `bnn info` reports the kernel paths; anything else prints the usage and exits with code 2.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Cli.Tests;

public class CommandLineTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CommandLine.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

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
}
