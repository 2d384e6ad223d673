// The commands of the LeNet example (train, eval, summary) and their options.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BnnDsl.Reporting;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Examples.LeNet;

/// <summary>Parses the command line and runs one command; exit code 0 on success, 1 on a failed run, 2 on bad usage.</summary>
public static class LeNetCommands
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: LeNet <command> [options]
          train     train on MNIST; writes last/best.safetensors, metrics.csv and training.png to --out
          eval      evaluate --checkpoint (default OUT/best.safetensors) on the MNIST test set
          summary   print the layer table (bits, parameters, memory, MACs)
        options:
          --data DIR        directory with the four MNIST IDX files (default: the cache of scripts/fetch-mnist.sh)
          --out DIR         run directory (default: runs/lenet)
          --epochs N        epochs to train (default 10)
          --batch N         batch size (default 128)
          --lr X            peak learning rate (default 0.001, Adam, cosine schedule)
          --optimizer NAME  adam or sgd
          --schedule S      cosine, step:STEPS[:GAMMA] or constant
          --seed N          seed of weights, shuffling and augmentation (default 1)
          --shift N         random translation of training images by up to N pixels (default 2; 0: none)
          --threads N       kernel threads (default: all cores)
          --resume          continue from OUT/last.safetensors
          --checkpoint FILE checkpoint for eval
          --json            print one JSON object with the results as the last line
        """;

    /// <summary>Runs <paramref name="args"/>.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException exception)
        {
            error.WriteLine(exception.Message);
            error.WriteLine(Usage);
            return 2;
        }
        try
        {
            return options.Command switch
            {
                "summary" => Summary(options, output),
                "train" => Train(options, output),
                "eval" => Eval(options, output),
                _ => throw new InvalidOperationException(),
            };
        }
        catch (Exception exception) when (exception is DataFormatException or ModelFileException or TrainingDivergedException or IOException)
        {
            error.WriteLine($"error: {exception.Message}");
            return 1;
        }
    }

    private static int Summary(Options options, TextWriter output)
    {
        output.Write(LeNet.Summary());
        if (options.Json)
            output.WriteLine(Json(w =>
            {
                var summary = BnnDsl.Runtime.NetworkSummary.Create(LeNet.Spec);
                w.WriteString("command", "summary");
                w.WriteNumber("model_bytes", summary.ModelBytes);
                w.WriteNumber("float_bytes", summary.FloatEquivalentBytes);
            }));
        return 0;
    }

    private static int Train(Options options, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var data = MnistDataSet.Load(options.DataDirectory);
        var network = new LeNet(options.BatchSize, threads: options.Threads);
        var trainerOptions = new TrainerOptions
        {
            Epochs = options.Epochs,
            Seed = options.Seed,
            LearningRate = options.LearningRate,
            Optimizer = options.Optimizer,
            Schedule = options.Schedule,
            OutputDirectory = options.OutputDirectory,
            Resume = options.Resume,
            MaxShift = options.MaxShift,
        };
        var reports = TrainingReports.Default(output);
        var result = new Trainer(network, data.Train, data.Test, trainerOptions, reports).Run();
        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : default;
        output.WriteLine($"best test accuracy {result.BestTestAccuracy:P2}; checkpoints in {Path.GetFullPath(options.OutputDirectory)}");
        if (options.Json)
            output.WriteLine(Json(w =>
            {
                w.WriteString("command", "train");
                w.WriteNumber("epochs", result.LastEpoch);
                w.WriteNumber("test_accuracy", last.TestAccuracy);
                w.WriteNumber("best_test_accuracy", result.BestTestAccuracy);
                w.WriteNumber("loss", last.TrainLoss);
                w.WriteNumber("test_loss", last.TestLoss);
                w.WriteNumber("train_images_per_s", Math.Round(Average(result.Epochs, m => m.TrainImagesPerSecond)));
                w.WriteNumber("eval_images_per_s", Math.Round(last.EvalImagesPerSecond));
                w.WriteNumber("seconds", Math.Round(clock.Elapsed.TotalSeconds, 1));
                w.WriteString("checkpoint", Path.GetFullPath(result.BestCheckpoint));
            }));
        return 0;
    }

    private static int Eval(Options options, TextWriter output)
    {
        string checkpoint = options.Checkpoint ?? Path.Combine(options.OutputDirectory, Trainer.BestCheckpointName);
        var data = MnistDataSet.Load(options.DataDirectory);
        var network = new LeNet(options.BatchSize, threads: options.Threads);
        Checkpoint.Load(checkpoint, network.Parameters);
        Evaluation.Evaluate(network, data.Test); // warm-up: the timed pass below runs jitted, tiered-up code
        var result = Evaluation.Evaluate(network, data.Test);
        output.WriteLine($"test accuracy {result.Accuracy:P2} ({result.Correct}/{result.Count}), loss {result.Loss:F4}, {result.ImagesPerSecond:N0} images/s at batch {options.BatchSize}");
        if (options.Json)
            output.WriteLine(Json(w =>
            {
                w.WriteString("command", "eval");
                w.WriteNumber("test_accuracy", result.Accuracy);
                w.WriteNumber("loss", result.Loss);
                w.WriteNumber("eval_images_per_s", Math.Round(result.ImagesPerSecond));
                w.WriteNumber("batch", options.BatchSize);
                w.WriteString("checkpoint", Path.GetFullPath(checkpoint));
            }));
        return 0;
    }

    private static double Average(IReadOnlyList<EpochMetrics> epochs, Func<EpochMetrics, double> value) =>
        epochs.Count == 0 ? 0 : epochs.Average(value);

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed record Options(string Command)
    {
        public string DataDirectory { get; init; } = MnistDataSet.DefaultDirectory;
        public string OutputDirectory { get; init; } = Path.Combine("runs", "lenet");
        public int Epochs { get; init; } = 10;
        public int BatchSize { get; init; } = 128;
        public float LearningRate { get; init; } = 1e-3f;
        public string Optimizer { get; init; } = "adam";
        public string Schedule { get; init; } = "cosine";
        public int Seed { get; init; } = 1;
        public int Threads { get; init; }
        public int MaxShift { get; init; } = 2;
        public bool Resume { get; init; }
        public string? Checkpoint { get; init; }
        public bool Json { get; init; }

        public static Options Parse(string[] args)
        {
            if (args.Length == 0 || args[0] is not ("train" or "eval" or "summary"))
                throw new ArgumentException(args.Length == 0 ? "No command given." : $"Unknown command '{args[0]}'.");
            var options = new Options(args[0]);
            for (int i = 1; i < args.Length; i++)
            {
                string name = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {name} needs a value.");
                int Int(int min) => int.TryParse(Value(), out int v) && v >= min ? v : throw new ArgumentException($"Option {name} needs an integer of at least {min}.");
                options = name switch
                {
                    "--data" => options with { DataDirectory = Value() },
                    "--out" => options with { OutputDirectory = Value() },
                    "--epochs" => options with { Epochs = Int(1) },
                    "--batch" => options with { BatchSize = Int(1) },
                    "--lr" => options with { LearningRate = float.TryParse(Value(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float lr) && lr > 0 ? lr : throw new ArgumentException("Option --lr needs a positive number.") },
                    "--optimizer" => options with { Optimizer = Value() },
                    "--schedule" => options with { Schedule = Value() },
                    "--seed" => options with { Seed = Int(0) },
                    "--threads" => options with { Threads = Int(0) },
                    "--shift" => options with { MaxShift = Int(0) },
                    "--resume" => options with { Resume = true },
                    "--checkpoint" => options with { Checkpoint = Value() },
                    "--json" => options with { Json = true },
                    _ => throw new ArgumentException($"Unknown option '{name}'."),
                };
            }
            return options;
        }
    }
}
