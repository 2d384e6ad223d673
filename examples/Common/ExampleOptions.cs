// The options of an example's command line, their parsing and the paths derived from them.
using System.Globalization;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Examples;

/// <summary>The parsed command line of an example program; an example's defaults are an instance of it.</summary>
public sealed record ExampleOptions
{
    /// <summary>The commands every example has.</summary>
    public static readonly IReadOnlyList<string> Commands = ["train", "eval", "convert", "infer", "bench", "summary"];

    /// <summary>The command to run.</summary>
    public string Command { get; init; } = "";

    /// <summary>Directory of the data set's files.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Run directory: checkpoints, metrics.csv, training.png and the packed model.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>File name of the packed model in <see cref="OutputDirectory"/>.</summary>
    public required string ModelFileName { get; init; }

    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Batch size of training and evaluation.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary><c>adam</c> or <c>sgd</c>.</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Learning-rate schedule (see <see cref="LearningRateSchedule.Parse"/>).</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Weight decay on weights and latent weights.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Seed of weights, shuffling and augmentation.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Kernel threads (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Random shift (crop of the image padded by this many pixels) of training images; 0: none.</summary>
    public int MaxShift { get; init; }

    /// <summary>Random horizontal flip of training images.</summary>
    public bool FlipHorizontal { get; init; }

    /// <summary>Continue from the last checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>Train and test on a generated data set of this many training images instead of the real one (0: the real one).</summary>
    public int Synthetic { get; init; }

    /// <summary>Checkpoint for eval and convert (null: OUT/best.safetensors).</summary>
    public string? Checkpoint { get; init; }

    /// <summary>Packed model for convert, infer and bench (null: OUT/<see cref="ModelFileName"/>).</summary>
    public string? Model { get; init; }

    /// <summary>Where train runs its batches: the CPU (default), a CUDA GPU, or ILGPU's CPU accelerator (the GPU kernels, slowly).</summary>
    public ComputeDeviceKind Device { get; init; } = ComputeDeviceKind.Cpu;

    /// <summary>Print one JSON object with the results as the last line.</summary>
    public bool Json { get; init; }

    /// <summary>The checkpoint eval and convert read.</summary>
    public string CheckpointPath => Checkpoint ?? Path.Combine(OutputDirectory, Trainer.BestCheckpointName);

    /// <summary>The packed model convert writes and infer and bench read.</summary>
    public string ModelPath => Model ?? Path.Combine(OutputDirectory, ModelFileName);

    /// <summary>Applies <paramref name="args"/> (command first, then options) to <paramref name="defaults"/>.</summary>
    /// <exception cref="ArgumentException">No or an unknown command, an unknown option, or a bad value; the message says which.</exception>
    public static ExampleOptions Parse(string[] args, ExampleOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(defaults);
        if (args.Length == 0 || !Commands.Contains(args[0]))
            throw new ArgumentException(args.Length == 0 ? "No command given." : $"Unknown command '{args[0]}'.");
        var options = defaults with { Command = args[0] };
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {name} needs a value.");
            int Int(int min) => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min ? v
                : throw new ArgumentException($"Option {name} needs an integer of at least {min}.");
            float Float(bool positive) => float.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) && (positive ? v > 0 : v >= 0) ? v
                : throw new ArgumentException($"Option {name} needs a {(positive ? "positive" : "non-negative")} number.");
            ComputeDeviceKind Device(string value)
            {
                try
                {
                    return ComputeDevice.Parse(value);
                }
                catch (ArgumentException)
                {
                    throw new ArgumentException($"Option {name} needs one of {ComputeDevice.Names}, not '{value}'.");
                }
            }
            options = name switch
            {
                "--data" => options with { DataDirectory = Value() },
                "--out" => options with { OutputDirectory = Value() },
                "--epochs" => options with { Epochs = Int(1) },
                "--batch" => options with { BatchSize = Int(1) },
                "--lr" => options with { LearningRate = Float(positive: true) },
                "--optimizer" => options with { Optimizer = Value() },
                "--schedule" => options with { Schedule = Value() },
                "--weight-decay" => options with { WeightDecay = Float(positive: false) },
                "--seed" => options with { Seed = Int(0) },
                "--threads" => options with { Threads = Int(0) },
                "--shift" => options with { MaxShift = Int(0) },
                "--flip" => options with { FlipHorizontal = true },
                "--no-flip" => options with { FlipHorizontal = false },
                "--synthetic" => options with { Synthetic = Int(1) },
                "--resume" => options with { Resume = true },
                "--checkpoint" => options with { Checkpoint = Value() },
                "--model" => options with { Model = Value() },
                "--json" => options with { Json = true },
                "--device" => options with { Device = Device(Value()) },
                _ => throw new ArgumentException($"Unknown option '{name}'."),
            };
        }
        if (options.Device != ComputeDeviceKind.Cpu && options.Command is not ("train" or "infer"))
            throw new ArgumentException($"Option --device {ComputeDevice.NameOf(options.Device)} applies to train and infer only; {options.Command} runs on the cpu.");
        return options;
    }
}
