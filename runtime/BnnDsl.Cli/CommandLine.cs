// Dispatches `bnn <command>`; unknown commands print the usage and exit with code 2.
using System.Globalization;
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Cli;

/// <summary>The commands of the <c>bnn</c> tool.</summary>
public static class CommandLine
{
    /// <summary>Exit code for a command that ran.</summary>
    public const int Success = 0;

    /// <summary>Exit code for a command line that is not understood.</summary>
    public const int UsageError = 2;

    /// <summary>The usage line.</summary>
    public const string Usage = """
        usage: bnn <command>
          info           print the CPU kernel paths of this machine
          summary FILE   the layer table (bits, parameters, packed memory, MACs) of a checkpoint or packed model
        """;

    /// <summary>Exit code for a model file that is missing, damaged or of the wrong kind.</summary>
    public const int FileError = 2;

    /// <summary>Runs the command in <paramref name="args"/>, writing results to <paramref name="output"/> and problems to <paramref name="error"/>.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        switch (args)
        {
            case ["info"]:
                Info(output);
                return Success;
            case ["summary", var file]:
                return Summary(file, output, error);
            case ["help" or "--help" or "-h"]:
                output.WriteLine(Usage);
                return Success;
            case []:
                error.WriteLine("bnn: no command given.");
                error.WriteLine(Usage);
                return UsageError;
            default:
                error.WriteLine($"bnn: unknown command '{string.Join(" ", args)}'.");
                error.WriteLine(Usage);
                return UsageError;
        }
    }

    private static int Summary(string file, TextWriter output, TextWriter error)
    {
        try
        {
            var metadata = SafeTensorsFile.ReadMetadata(file);
            if (!metadata.TryGetValue("network", out var json))
                throw new ModelFileException(file, "its metadata has no 'network' entry, so it was not written by BnnDsl",
                    "pass a checkpoint written by Trainer or Network.Save, or a packed .bnnx model");
            var spec = NetworkSpecJson.Read(json, file);
            output.Write(NetworkSummary.Create(spec).ToTable());
            return Success;
        }
        catch (ModelFileException exception)
        {
            error.WriteLine($"bnn: {exception.Message}");
            return FileError;
        }
        catch (InvalidNetworkException exception)
        {
            error.WriteLine($"bnn: {file}: the network in its metadata is invalid: {exception.Message}");
            return FileError;
        }
    }

    private static void Info(TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best kernel path:      {KernelDispatch.Best}"));
        output.WriteLine($"hardware paths:        {string.Join(", ", KernelDispatch.HardwarePaths)}");
        output.WriteLine($"runnable paths:        {string.Join(", ", KernelDispatch.Runnable)}");
        output.WriteLine($"Vector512 accelerated: {Vector512.IsHardwareAccelerated}");
        output.WriteLine($"Vector256 accelerated: {Vector256.IsHardwareAccelerated}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"processor count:       {Environment.ProcessorCount}"));
    }
}
