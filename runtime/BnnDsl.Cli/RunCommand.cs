// `bnn run MODEL.bnnx INPUT`: classifies an IDX image file or a raw float32 file, one class per line or one JSON object.
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Cli;

/// <summary>Runs a packed model on every sample of an input file.</summary>
internal static class RunCommand
{
    public static int Run(string[] args, TextWriter output)
    {
        var arguments = Arguments.Parse(args, [DeviceOption.Name], ["--raw", "--json"]);
        if (arguments.Positional.Count != 2)
            throw new UsageException("run takes a model and an input file");
        using var device = DeviceOption.Open(arguments);
        var model = PackedModel.Load(arguments.Positional[0]);
        string input = arguments.Positional[1];
        bool raw = arguments.Has("--raw") || input.EndsWith(".f32", StringComparison.OrdinalIgnoreCase);
        var (samples, count) = raw ? InputFiles.ReadRaw(input, model) : InputFiles.ReadImages(input, model, int.MaxValue);
        var runner = Predictors.Open(model, device, Math.Clamp(count, 1, PackedModel.PooledBatchSize));
        int[] classes;
        using (runner as IDisposable)
            classes = runner.Classify(samples, count);
        if (arguments.Has("--json"))
        {
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "run");
                w.WriteString("model", arguments.Positional[0]);
                w.WriteString("input", input);
                w.WriteNumber("count", count);
                w.WriteStartArray("classes");
                foreach (int c in classes)
                    w.WriteNumberValue(c);
                w.WriteEndArray();
            }));
        }
        else
        {
            foreach (int c in classes)
                output.WriteLine(c);
        }
        return CommandLine.Success;
    }
}
