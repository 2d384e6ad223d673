// Dispatches `bnn <command>`; unknown commands print the usage and exit with code 2, and a bad file is one line, exit code 2.
using System.Globalization;
using System.Runtime.Intrinsics;
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Cli;

/// <summary>The commands of the <c>bnn</c> tool.</summary>
public static class CommandLine
{
    /// <summary>Exit code for a command that ran.</summary>
    public const int Success = 0;

    /// <summary>Exit code of <c>verify</c> when the packed model and the checkpoint disagree.</summary>
    public const int Mismatch = 1;

    /// <summary>Exit code for a command line that is not understood.</summary>
    public const int UsageError = 2;

    /// <summary>The usage line.</summary>
    public const string Usage = """
        usage: bnn <command>
          info                                   print the CPU kernel paths of this machine
          summary FILE                           the layer table (bits, parameters, packed memory, MACs) of a checkpoint or packed model
          convert CHECKPOINT -o MODEL.bnnx       pack a training checkpoint into a deployment model
          export-onnx CHECKPOINT -o MODEL.onnx [--float-peer]
                                                 write the checkpoint's float reference (or its float peer) as an ONNX model
          verify MODEL.bnnx CHECKPOINT --data DIR|FILE [--count N]
                                                 run the packed model and the checkpoint side by side on N test images (default 1000),
                                                 per layer; exit code 1 on a mismatch
          run MODEL.bnnx INPUT [--raw]           classify an IDX image file or a raw float32 file (.f32 or --raw), one class per line
          bench MODEL.bnnx [--rounds N] [--seconds S]
                                                 latency at batch 1 and throughput at batch 32, 1 and 2 threads (or on the device)
        verify, run and bench take --device cpu|cuda|ilgpu-cpu (default cpu): where the packed model runs.
        convert, export-onnx, verify, run and bench take --json to print one JSON object as the last line.
        exit codes: 0 success, 1 verify mismatch, 2 bad command line or bad file
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
            case ["convert", ..]:
                return Guarded(args, output, error, ConvertCommand.Run);
            case ["export-onnx", ..]:
                return Guarded(args, output, error, ExportOnnxCommand.Run);
            case ["verify", ..]:
                return Guarded(args, output, error, VerifyCommand.Run);
            case ["run", ..]:
                return Guarded(args, output, error, RunCommand.Run);
            case ["bench", ..]:
                return Guarded(args, output, error, BenchCommand.Run);
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

    /// <summary>Runs a file command; every problem a user can cause becomes one line on <paramref name="error"/> and exit code 2.</summary>
    private static int Guarded(string[] args, TextWriter output, TextWriter error, Func<string[], TextWriter, int> command)
    {
        try
        {
            return command(args[1..], output);
        }
        catch (UsageException exception)
        {
            error.WriteLine($"bnn {args[0]}: {exception.Message}.");
            error.WriteLine(Usage);
            return UsageError;
        }
        catch (ModelFileException exception)
        {
            error.WriteLine($"bnn: {OneLine(exception.Message)}");
            return FileError;
        }
        catch (DataFormatException exception)
        {
            error.WriteLine($"bnn: {OneLine(exception.Message)}");
            return FileError;
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException or InvalidNetworkException or DeviceUnavailableException)
        {
            error.WriteLine($"bnn {args[0]}: {OneLine(exception.Message)}");
            return FileError;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

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
            if (metadata.TryGetValue(Checkpoint.FormatKey, out var format) && format == PackedModel.FormatName)
                WritePlan(PackedModel.Load(file), output);
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

    /// <summary>The packed model's steps: op, the layers it covers, what it reads and writes, and the bytes of its tensors.</summary>
    private static void WritePlan(PackedModel model, TextWriter output)
    {
        var bytes = model.Tensors.ToDictionary(t => t.Name, t => (long)t.Data.Length, StringComparer.Ordinal);
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Packed plan ({model.Steps.Count} steps, {model.DataBytes:N0} bytes of tensors):"));
        output.WriteLine($"{"#",3}  {"op",-16} {"layer -> output",-22} {"reads",-16} {"writes",-24} {"bytes",10}");
        foreach (var step in model.Steps)
        {
            string layers = step.Last == step.Layer ? step.Layer : $"{step.Layer} -> {step.Last}";
            string reads = StepName(step.Source) + (step.Op == PlanOp.Add ? " + " + StepName(step.Shortcut) : "");
            string writes = (step.OutputBits ? "bits " : step.PackSign ? "floats+bits " : "floats ") + step.Output;
            long stepBytes = ModelPlanner.Tensors([step]).Sum(t => bytes[t.Name]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{step.Index + 1,3}  {PlanStep.OpName(step.Op),-16} {layers,-22} {reads,-16} {writes,-24} {stepBytes,10:N0}"));
        }

        static string StepName(int index) => index < 0 ? "input" : string.Create(CultureInfo.InvariantCulture, $"step {index + 1}");
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
