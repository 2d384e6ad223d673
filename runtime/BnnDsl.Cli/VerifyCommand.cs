// `bnn verify MODEL.bnnx CHECKPOINT --data DIR`: the packed model against the float reference path, step by step.
using System.Globalization;
using System.Numerics;
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Cli;

/// <summary>
/// Runs the packed model (<see cref="InferenceSession"/>, or a <see cref="DeviceSession"/> on the device --device
/// names) and the checkpoint through <see cref="SpecNetwork"/> on the same images and compares every plan step with
/// the reference layer whose output it produces (<see cref="PlanStep.Last"/>): a bit step must equal sign() of the
/// reference values, a float step must lie within <see cref="Tolerance"/> relative (a residual add that also packs its
/// signs is checked both ways), and both must predict the same classes.
/// </summary>
internal static class VerifyCommand
{
    /// <summary>The largest accepted |packed - reference| / max(1, |reference|) of a float step.</summary>
    public const double Tolerance = 1e-4;

    private const int Batch = 100;

    public static int Run(string[] args, TextWriter output)
    {
        var arguments = Arguments.Parse(args, ["--data", "--count", DeviceOption.Name], ["--json"]);
        if (arguments.Positional.Count != 2)
            throw new UsageException("verify takes a packed model and the checkpoint it was converted from");
        string modelPath = arguments.Positional[0], checkpointPath = arguments.Positional[1];
        string data = arguments.Value("--data") ?? throw new UsageException("verify needs --data DIR (a directory with t10k-images-idx3-ubyte, an IDX image file, or a raw float32 .f32 file)");
        int limit = arguments.Int("--count", 1000, 1);
        using var device = DeviceOption.Open(arguments);

        var model = PackedModel.Load(modelPath);
        var metadata = Checkpoint.ReadMetadata(checkpointPath);
        if (!metadata.TryGetValue("network", out var json) || NetworkSpecJson.Read(json, checkpointPath) != model.Network)
            throw new ModelFileException(checkpointPath, $"it does not hold network '{model.Network.Name}' of {modelPath}",
                "pass the checkpoint the model was converted from");
        // a raw float32 file (.f32) feeds networks whose inputs are no MNIST images (e.g. CIFAR's 3x32x32)
        bool raw = data.EndsWith(".f32", StringComparison.OrdinalIgnoreCase);
        var (samples, count) = raw ? InputFiles.ReadRaw(data, model) : InputFiles.ReadImages(ImagesPath(data), model, limit);
        count = Math.Min(count, limit);
        string source = raw ? data : ImagesPath(data);
        if (count == 0)
            throw new DataFormatException(data, $"{data}: the image file holds no images; pass a file with at least one image.");

        var network = new SpecNetwork(model.Network, Batch);
        network.Load(checkpointPath);
        var runner = Predictors.Open(model, device, Batch, keepStepOutputs: true);
        using var owned = runner as IDisposable;
        var session = (IPackedStepOutputs)runner;
        var steps = model.Steps;
        var results = new StepResult[steps.Count];
        for (int i = 0; i < results.Length; i++)
            results[i] = new StepResult(steps[i]);
        var batchInput = new float[Batch * model.InputLength];
        var logits = new float[Batch * model.OutputLength];
        int agree = 0;
        for (int first = 0; first < count; first += Batch)
        {
            int chunk = Math.Min(Batch, count - first);
            var input = samples.AsSpan(first * model.InputLength, chunk * model.InputLength);
            batchInput.AsSpan().Clear();
            input.CopyTo(batchInput);
            network.Forward(batchInput, training: false);
            runner.Predict(input, chunk, logits);
            for (int i = 0; i < steps.Count; i++)
                results[i].Add(session, i, network.LayerOutput(steps[i].Last), chunk);
            for (int s = 0; s < chunk; s++)
                if (ArgMax(logits.AsSpan(s * model.OutputLength, model.OutputLength)) == ArgMax(network.Output.Slice(s * model.OutputLength, model.OutputLength)))
                    agree++;
        }

        bool ok = agree == count && results.All(r => r.Ok);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{modelPath} against {checkpointPath} on {count:N0} images of {source}")
            + (device.IsHost ? "" : $", packed model on {device.Description}"));
        output.WriteLine();
        output.WriteLine($"{"step",4}  {"op",-15}  {"layer -> output",-20}  {"output",-26}  {"difference",-31}  status");
        for (int i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            string layers = step.Last == step.Layer ? step.Layer : $"{step.Layer} -> {step.Last}";
            string shape = (step.OutputBits ? "bits " : step.PackSign ? "floats+bits " : "floats ") + step.Output;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,4}  {PlanStep.OpName(step.Op),-15}  {layers,-20}  {shape,-26}  {results[i].Describe(),-31}  {(results[i].Ok ? "ok" : "MISMATCH")}"));
        }
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"predictions: {agree:N0} of {count:N0} agree{(agree == count ? "" : $" ({count - agree:N0} differ)")}"));
        output.WriteLine(ok
            ? "verdict: the packed model computes what the checkpoint computes (bits identical, floats within 1e-4 relative, same predictions)"
            : "verdict: MISMATCH: the packed model does not compute what the checkpoint computes; the first MISMATCH step is where they part "
              + "(reconvert the checkpoint with this version, and check that this is the checkpoint the model came from)");
        if (arguments.Has("--json"))
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "verify");
                w.WriteString("model", modelPath);
                w.WriteString("checkpoint", checkpointPath);
                w.WriteString("device", ComputeDevice.NameOf(device.Kind));
                w.WriteNumber("images", count);
                w.WriteNumber("predictions_agree", agree);
                w.WriteBoolean("ok", ok);
                w.WriteStartArray("steps");
                for (int i = 0; i < steps.Count; i++)
                {
                    w.WriteStartObject();
                    w.WriteString("op", PlanStep.OpName(steps[i].Op));
                    w.WriteString("layer", steps[i].Layer);
                    w.WriteString("last", steps[i].Last);
                    w.WriteBoolean("bits", steps[i].HasBits);
                    if (steps[i].HasBits)
                    {
                        w.WriteNumber("differing_bits", results[i].DifferingBits);
                        w.WriteNumber("total_bits", results[i].TotalBits);
                    }
                    if (steps[i].OutputFloats)
                    {
                        Number(w, "max_abs_difference", results[i].MaxAbsolute);
                        Number(w, "max_relative_difference", results[i].MaxRelative);
                    }
                    w.WriteBoolean("ok", results[i].Ok);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }));
        return ok ? CommandLine.Success : CommandLine.Mismatch;
    }

    /// <summary><paramref name="data"/> itself when it is a file, else the MNIST test images in that directory.</summary>
    private static string ImagesPath(string data)
    {
        if (File.Exists(data))
            return data;
        if (!Directory.Exists(data))
            throw new DataFormatException(data, $"{data}: no such file or directory; pass a directory holding {MnistDataSet.TestImagesFile} (bash scripts/fetch-mnist.sh) or an IDX image file.");
        string path = Path.Combine(data, MnistDataSet.TestImagesFile);
        string dotted = Path.Combine(data, MnistDataSet.TestImagesFile.Replace("-idx", ".idx", StringComparison.Ordinal));
        return File.Exists(path) || !File.Exists(dotted) ? path : dotted;
    }

    /// <summary>A number, or null when it is not finite (JSON has no infinity).</summary>
    private static void Number(System.Text.Json.Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
            writer.WriteNumber(name, value);
        else
            writer.WriteNull(name);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best])
                best = j;
        return best;
    }

    /// <summary>What one step's outputs differ by, over every chunk.</summary>
    private sealed class StepResult(PlanStep step)
    {
        private ulong[] expected = [];

        public long DifferingBits { get; private set; }
        public long TotalBits { get; private set; }
        public double MaxAbsolute { get; private set; }
        public double MaxRelative { get; private set; }
        public bool Ok => (!step.HasBits || DifferingBits == 0) && (!step.OutputFloats || MaxRelative <= Tolerance);

        public void Add(IPackedStepOutputs session, int index, ReadOnlySpan<float> reference, int count)
        {
            var shape = step.Output;
            int elements = (int)shape.Elements;
            reference = reference[..(count * elements)];
            if (step.HasBits)
            {
                int rows = shape.Rank == 3 ? count * shape.Height * shape.Width : count;
                int words = rows * SignPacking.WordsFor(shape.Channels);
                if (expected.Length < words)
                    expected = new ulong[words];
                SignPacking.Pack(reference, rows, shape.Channels, expected.AsSpan(0, words), KernelPath.Scalar);
                var actual = session.StepBits(index);
                for (int w = 0; w < words; w++)
                    DifferingBits += BitOperations.PopCount(expected[w] ^ actual[w]);
                TotalBits += (long)count * elements;
            }
            if (!step.OutputFloats)
                return;
            var values = session.StepFloats(index);
            for (int i = 0; i < values.Length; i++)
            {
                double difference = Math.Abs((double)values[i] - reference[i]);
                if (double.IsNaN(difference))
                    difference = double.PositiveInfinity;
                MaxAbsolute = Math.Max(MaxAbsolute, difference);
                MaxRelative = Math.Max(MaxRelative, difference / Math.Max(1, Math.Abs((double)reference[i])));
            }
        }

        public string Describe() => string.Join("; ", new[]
        {
            step.HasBits ? string.Create(CultureInfo.InvariantCulture, $"{DifferingBits:N0} of {TotalBits:N0} bits differ") : null,
            step.OutputFloats ? string.Create(CultureInfo.InvariantCulture, $"max |diff| {MaxAbsolute:G3} (rel {MaxRelative:G3})") : null,
        }.OfType<string>());
    }
}
