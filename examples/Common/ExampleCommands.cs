// The commands of every example program (train, eval, convert, infer, bench, summary), run on the network and data
// set an ExampleDefinition names.
using System.Diagnostics;
using System.Globalization;
using BnnDsl.Reporting;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Examples;

/// <summary>Parses the command line and runs one command; exit code 0 on success, 1 on a failed run, 2 on bad usage.</summary>
public static class ExampleCommands
{
    /// <summary>The usage text of <paramref name="example"/>, its defaults filled in.</summary>
    public static string Usage(ExampleDefinition example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var d = example.Defaults;
        string I(float value) => value.ToString(CultureInfo.InvariantCulture);
        return $"""
            usage: {example.Name} <command> [options]
              train     train on {example.DataName}; writes last/best.safetensors, metrics.csv and training.png to --out
              eval      evaluate --checkpoint (default OUT/best.safetensors) on the {example.DataName} test set (float path)
              convert   pack --checkpoint into --model (default OUT/{d.ModelFileName}): 1 bit per binary weight, BatchNorm folded
              infer     classify the {example.DataName} test set with the packed --model; accuracy and images/s
              bench     images/s of the packed model and of the float path at batch 1, 32 and 128
              summary   print the layer table (bits, parameters, memory, MACs)
            options:
              --data DIR        {example.DataHelp}
              --synthetic N     use N generated training images (one pattern per class plus noise; N/5 test images) instead of {example.DataName}
              --out DIR         run directory (default: {d.OutputDirectory})
              --epochs N        epochs to train (default {d.Epochs})
              --batch N         batch size (default {d.BatchSize})
              --lr X            peak learning rate (default {I(d.LearningRate)}, {d.Optimizer}, {d.Schedule} schedule)
              --optimizer NAME  adam or sgd
              --schedule S      cosine, step:STEPS[:GAMMA] or constant
              --weight-decay X  decoupled weight decay on weights (default {I(d.WeightDecay)})
              --seed N          seed of weights, shuffling and augmentation (default {d.Seed})
              --shift N         random shift of training images by up to N pixels, i.e. a random crop of the image zero-padded by N (default {d.MaxShift}; 0: none)
              --flip, --no-flip random horizontal flip of training images (default {(d.FlipHorizontal ? "on" : "off")})
              --threads N       kernel threads (default: all cores)
              --device NAME     where train runs its batches and infer the packed model: cpu (default), cuda (an NVIDIA GPU; training: Adam, float and 1-bit layers) or ilgpu-cpu (the GPU kernels on the CPU, slow)
              --resume          continue from OUT/last.safetensors
              --checkpoint FILE checkpoint for eval and convert
              --model FILE      packed model for convert, infer and bench
              --json            print one JSON object with the results as the last line
            {example.RecipeNote}
            """;
    }

    /// <summary>Runs <paramref name="args"/> for <paramref name="example"/>.</summary>
    public static int Run(ExampleDefinition example, string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(example);
        ExampleOptions options;
        try
        {
            options = ExampleOptions.Parse(args, example.Defaults);
        }
        catch (ArgumentException exception)
        {
            error.WriteLine(exception.Message);
            error.WriteLine(Usage(example));
            return 2;
        }
        try
        {
            return options.Command switch
            {
                "summary" => Summary(example, options, output),
                "train" => Train(example, options, output),
                "eval" => Eval(example, options, output),
                "convert" => Convert(options, output),
                "infer" => Infer(example, options, output),
                "bench" => Bench(example, options, output),
                _ => throw new InvalidOperationException($"Command '{options.Command}' has no handler."),
            };
        }
        catch (Exception exception) when (exception is DataFormatException or ModelFileException or TrainingDivergedException or IOException
            or DeviceUnavailableException or NotSupportedException)
        {
            error.WriteLine($"error: {exception.Message}");
            return 1;
        }
    }

    /// <summary>
    /// The training and test splits the options ask for: the data set in <see cref="ExampleOptions.DataDirectory"/>, or,
    /// with <see cref="ExampleOptions.Synthetic"/> = N, N generated training images and N/5 test images of the network's
    /// input shape (<see cref="SyntheticImages"/>, seeded by the run's seed).
    /// </summary>
    public static (LabeledImages Train, LabeledImages Test) LoadData(ExampleDefinition example, ExampleOptions options)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Synthetic == 0)
            return example.LoadData(options.DataDirectory);
        var input = example.Spec.Input;
        int classes = (int)example.Spec.Output.Elements;
        var train = SyntheticImages.Create(options.Synthetic, input.Height, input.Width, input.Channels, classes, options.Seed);
        var test = SyntheticImages.Create(Math.Max(1, options.Synthetic / 5), input.Height, input.Width, input.Channels, classes, unchecked(options.Seed + 1_000_003));
        return (train, test);
    }

    private static int Summary(ExampleDefinition example, ExampleOptions options, TextWriter output)
    {
        var summary = NetworkSummary.Create(example.Spec);
        output.Write(summary.ToTable());
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "summary");
                w.WriteNumber("model_bytes", summary.ModelBytes);
                w.WriteNumber("float_bytes", summary.FloatEquivalentBytes);
            }));
        return 0;
    }

    private static int Train(ExampleDefinition example, ExampleOptions options, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var (train, test) = LoadData(example, options);
        var network = example.Create(options.BatchSize, options.Threads);
        var trainerOptions = new TrainerOptions
        {
            Epochs = options.Epochs,
            Seed = options.Seed,
            LearningRate = options.LearningRate,
            Optimizer = options.Optimizer,
            Schedule = options.Schedule,
            WeightDecay = options.WeightDecay,
            OutputDirectory = options.OutputDirectory,
            Resume = options.Resume,
            MaxShift = options.MaxShift,
            FlipHorizontal = options.FlipHorizontal,
        };
        var reports = TrainingReports.Default(output);
        using var device = ComputeDevice.Open(options.Device);
        if (!device.IsHost)
            output.WriteLine($"training on {device.Description}");
        var result = DeviceTrainer.Create(network, train, test, trainerOptions, device, reports).Run();
        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : default;
        output.WriteLine($"best test accuracy {result.BestTestAccuracy:P2}; checkpoints in {Path.GetFullPath(options.OutputDirectory)}");
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "train");
                w.WriteString("device", ComputeDevice.NameOf(options.Device));
                w.WriteNumber("epochs", result.LastEpoch);
                w.WriteNumber("test_accuracy", last.TestAccuracy);
                w.WriteNumber("best_test_accuracy", result.BestTestAccuracy);
                w.WriteNumber("first_loss", result.Epochs.Count > 0 ? result.Epochs[0].TrainLoss : 0);
                w.WriteNumber("loss", last.TrainLoss);
                w.WriteNumber("test_loss", last.TestLoss);
                w.WriteNumber("train_images_per_s", Math.Round(result.Epochs.Count == 0 ? 0 : result.Epochs.Average(m => m.TrainImagesPerSecond)));
                w.WriteNumber("eval_images_per_s", Math.Round(last.EvalImagesPerSecond));
                w.WriteNumber("seconds", Math.Round(clock.Elapsed.TotalSeconds, 1));
                w.WriteString("checkpoint", Path.GetFullPath(result.BestCheckpoint));
            }));
        return 0;
    }

    private static int Eval(ExampleDefinition example, ExampleOptions options, TextWriter output)
    {
        string checkpoint = options.CheckpointPath;
        var (_, test) = LoadData(example, options);
        var network = example.Create(options.BatchSize, options.Threads);
        Checkpoint.Load(checkpoint, network.Parameters);
        Evaluation.Evaluate(network, test); // warm-up: the timed pass below runs jitted, tiered-up code
        var result = Evaluation.Evaluate(network, test);
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

    private static int Convert(ExampleOptions options, TextWriter output)
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

    private static int Infer(ExampleDefinition example, ExampleOptions options, TextWriter output)
    {
        var model = PackedModel.Load(options.ModelPath);
        var (_, test) = LoadData(example, options);
        var images = new float[test.Count * model.InputLength];
        test.Images.Normalize(0, test.Count, images);
        using var device = ComputeDevice.Open(options.Device);
        var session = Predictors.Open(model, device, options.BatchSize, options.Threads);
        using var owned = session as IDisposable;
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
            + $"{test.Count / seconds:N0} images/s at batch {options.BatchSize}" + (device.IsHost ? "" : $" on {device.Description}"));
        if (options.Json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "infer");
                w.WriteString("device", ComputeDevice.NameOf(options.Device));
                w.WriteNumber("test_accuracy", accuracy);
                w.WriteNumber("images_per_s", Math.Round(test.Count / seconds));
                w.WriteNumber("batch", options.BatchSize);
                w.WriteNumber("model_bytes", modelBytes);
            }));
        return 0;
    }

    private static int Bench(ExampleDefinition example, ExampleOptions options, TextWriter output)
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
            var network = example.Create(batch, options.Threads);
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

    /// <summary>
    /// Images per second of <paramref name="run"/> (one batch per call): median of 7 timed rounds after a warm-up of
    /// 20 calls or 1 s, whichever comes first (a ResNet-18 batch of 128 can take seconds).
    /// </summary>
    private static double Throughput(int batch, Action run)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 20 && clock.Elapsed.TotalSeconds < 1; i++)
            run();
        clock.Restart();
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
}
