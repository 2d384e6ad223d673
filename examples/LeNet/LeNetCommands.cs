// The commands of the LeNet example (train, eval, convert, infer, bench, summary) and their options.
using System.Diagnostics;
using BnnDsl.Reporting;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Examples.LeNet;

/// <summary>Parses the command line and runs one command; exit code 0 on success, 1 on a failed run, 2 on bad usage.</summary>
public static class LeNetCommands
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: LeNet <command> [options]
          train     train on MNIST; writes last/best.safetensors, metrics.csv and training.png to --out
          eval      evaluate --checkpoint (default OUT/best.safetensors) on the MNIST test set (float path)
          convert   pack --checkpoint into --model (default OUT/lenet.bnnx): 1 bit per binary weight, BatchNorm folded
          infer     classify the MNIST test set with the packed --model; accuracy and images/s
          bench     images/s of the packed model and of the float path at batch 1, 32 and 128
          summary   print the layer table (bits, parameters, memory, MACs)
        options:
          --data DIR        directory with the four MNIST IDX files (default: the cache of scripts/fetch-mnist.sh)
          --out DIR         run directory (default: runs/lenet)
          --epochs N        epochs to train (default 10)
          --batch N         batch size (default 128)
          --lr X            peak learning rate (default 0.003, Adam, cosine schedule)
          --optimizer NAME  adam or sgd
          --schedule S      cosine, step:STEPS[:GAMMA] or constant
          --seed N          seed of weights, shuffling and augmentation (default 1)
          --shift N         random translation of training images by up to N pixels (default 2; 0: none)
          --threads N       kernel threads (default: all cores)
          --resume          continue from OUT/last.safetensors
          --checkpoint FILE checkpoint for eval and convert
          --model FILE      packed model for convert, infer and bench
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
                "convert" => Convert(options, output),
                "infer" => Infer(options, output),
                "bench" => Bench(options, output),
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
            output.WriteLine(JsonLine.Create(w =>
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
            output.WriteLine(JsonLine.Create(w =>
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
        string checkpoint = options.CheckpointPath;
        var data = MnistDataSet.Load(options.DataDirectory);
        var network = new LeNet(options.BatchSize, threads: options.Threads);
        Checkpoint.Load(checkpoint, network.Parameters);
        Evaluation.Evaluate(network, data.Test); // warm-up: the timed pass below runs jitted, tiered-up code
        var result = Evaluation.Evaluate(network, data.Test);
        output.WriteLine($"test accuracy {result.Accuracy:P2} ({result.Correct}/{result.Count}), loss {result.Loss:F4}, {result.ImagesPerSecond:N0} images/s at batch {options.BatchSize}");
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
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

    private static int Convert(Options options, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var model = ModelConverter.Convert(options.CheckpointPath, options.ModelPath);
        long modelBytes = new FileInfo(options.ModelPath).Length, checkpointBytes = new FileInfo(options.CheckpointPath).Length;
        output.WriteLine($"{options.ModelPath}: {modelBytes:N0} bytes ({model.Steps.Count} steps) from {options.CheckpointPath} ({checkpointBytes:N0} bytes) in {clock.Elapsed.TotalSeconds:F2} s");
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "convert");
                w.WriteNumber("model_bytes", modelBytes);
                w.WriteNumber("checkpoint_bytes", checkpointBytes);
                w.WriteString("model", Path.GetFullPath(options.ModelPath));
            }));
        return 0;
    }

    private static int Infer(Options options, TextWriter output)
    {
        var model = PackedModel.Load(options.ModelPath);
        var test = MnistDataSet.Load(options.DataDirectory).Test;
        var images = new float[test.Count * model.InputLength];
        test.Images.Normalize(0, test.Count, images);
        var session = model.CreateSession(options.BatchSize, threads: options.Threads);
        var classes = new int[test.Count];
        session.Classify(images, test.Count, classes);
        var clock = Stopwatch.StartNew();
        session.Classify(images, test.Count, classes);
        double seconds = clock.Elapsed.TotalSeconds;
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
            if (classes[i] == test.Labels.Labels[i])
                correct++;
        double accuracy = (double)correct / test.Count;
        long modelBytes = new FileInfo(options.ModelPath).Length;
        output.WriteLine($"packed model {options.ModelPath} ({modelBytes:N0} bytes): test accuracy {accuracy:P2} ({correct}/{test.Count}), "
            + $"{test.Count / seconds:N0} images/s at batch {options.BatchSize}");
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "infer");
                w.WriteNumber("test_accuracy", accuracy);
                w.WriteNumber("images_per_s", Math.Round(test.Count / seconds));
                w.WriteNumber("batch", options.BatchSize);
                w.WriteNumber("model_bytes", modelBytes);
            }));
        return 0;
    }

    private static int Bench(Options options, TextWriter output)
    {
        var model = PackedModel.Load(options.ModelPath);
        var random = new Random(1);
        var results = new List<(int Batch, double Packed, double Float)>();
        output.WriteLine("batch   packed images/s   float-path images/s   ratio");
        foreach (int batch in new[] { 1, 32, 128 })
        {
            var input = new float[batch * model.InputLength];
            for (int i = 0; i < input.Length; i++)
                input[i] = random.NextSingle() * 3.2f - 0.42f;
            var session = model.CreateSession(batch, threads: options.Threads);
            var logits = new float[batch * model.OutputLength];
            double packed = Throughput(batch, () => session.Predict(input, batch, logits));
            var network = new LeNet(batch, threads: options.Threads);
            network.Initialize(1);
            double reference = Throughput(batch, () => network.Forward(input, training: false));
            results.Add((batch, packed, reference));
            output.WriteLine($"{batch,5}   {packed,15:N0}   {reference,19:N0}   {packed / reference,5:F1}x");
        }
        output.WriteLine("(quick timing, median of 7 rounds of ~0.2 s; the BenchmarkDotNet numbers are in docs/PERF.md)");
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "bench");
                foreach (var (batch, packed, reference) in results)
                {
                    w.WriteNumber($"packed_images_per_s_batch{batch}", Math.Round(packed));
                    w.WriteNumber($"float_images_per_s_batch{batch}", Math.Round(reference));
                }
            }));
        return 0;
    }

    /// <summary>Images per second of <paramref name="run"/> (one batch per call): median of 7 timed rounds after a warm-up.</summary>
    private static double Throughput(int batch, Action run)
    {
        for (int i = 0; i < 20; i++)
            run();
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.Elapsed.TotalSeconds < 0.1)
        {
            run();
            calls++;
        }
        int perRound = Math.Max(1, (int)(calls * 0.2 / clock.Elapsed.TotalSeconds));
        var rounds = new double[7];
        for (int r = 0; r < rounds.Length; r++)
        {
            clock.Restart();
            for (int i = 0; i < perRound; i++)
                run();
            rounds[r] = perRound * batch / clock.Elapsed.TotalSeconds;
        }
        Array.Sort(rounds);
        return rounds[rounds.Length / 2];
    }

    private static double Average(IReadOnlyList<EpochMetrics> epochs, Func<EpochMetrics, double> value) =>
        epochs.Count == 0 ? 0 : epochs.Average(value);

    private sealed record Options(string Command)
    {
        public string DataDirectory { get; init; } = MnistDataSet.DefaultDirectory;
        public string OutputDirectory { get; init; } = Path.Combine("runs", "lenet");
        public int Epochs { get; init; } = 10;
        public int BatchSize { get; init; } = 128;
        public float LearningRate { get; init; } = 3e-3f;
        public string Optimizer { get; init; } = "adam";
        public string Schedule { get; init; } = "cosine";
        public int Seed { get; init; } = 1;
        public int Threads { get; init; }
        public int MaxShift { get; init; } = 2;
        public bool Resume { get; init; }
        public string? Checkpoint { get; init; }
        public string? Model { get; init; }
        public string CheckpointPath => Checkpoint ?? Path.Combine(OutputDirectory, Trainer.BestCheckpointName);
        public string ModelPath => Model ?? Path.Combine(OutputDirectory, "lenet.bnnx");
        public bool Json { get; init; }

        public static Options Parse(string[] args)
        {
            if (args.Length == 0 || args[0] is not ("train" or "eval" or "convert" or "infer" or "bench" or "summary"))
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
                    "--model" => options with { Model = Value() },
                    "--json" => options with { Json = true },
                    _ => throw new ArgumentException($"Unknown option '{name}'."),
                };
            }
            return options;
        }
    }
}
