// `bnn convert CHECKPOINT -o MODEL.bnnx`: a training checkpoint to a packed model, with a progress line and the sizes.
using System.Globalization;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime;

namespace BnnDsl.Cli;

/// <summary>Converts a checkpoint with <see cref="ModelConverter.Convert(string, string, IProgress{double})"/>.</summary>
internal static class ConvertCommand
{
    public static int Run(string[] args, TextWriter output)
    {
        var arguments = Arguments.Parse(args, ["-o", "--output"], ["--json"]);
        if (arguments.Positional.Count != 1)
            throw new UsageException("convert takes one checkpoint file");
        string checkpoint = arguments.Positional[0];
        string model = arguments.Value("-o") ?? arguments.Value("--output") ?? throw new UsageException("convert needs -o MODEL.bnnx");
        bool json = arguments.Has("--json");

        output.Write($"converting {checkpoint}:");
        var packed = ModelConverter.Convert(checkpoint, model, new LineProgress(output));
        output.WriteLine();
        long checkpointBytes = new FileInfo(checkpoint).Length, modelBytes = new FileInfo(model).Length;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {model}: {modelBytes:N0} bytes ({packed.Steps.Count} plan steps, {packed.Tensors.Count} tensors); checkpoint {checkpointBytes:N0} bytes, {(double)checkpointBytes / modelBytes:F1}x larger"));
        if (json)
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "convert");
                w.WriteString("checkpoint", checkpoint);
                w.WriteString("model", model);
                w.WriteNumber("checkpoint_bytes", checkpointBytes);
                w.WriteNumber("model_bytes", modelBytes);
                w.WriteNumber("steps", packed.Steps.Count);
                w.WriteNumber("tensors", packed.Tensors.Count);
            }));
        return CommandLine.Success;
    }

    /// <summary>Appends " 20%" and so on to the current line as the converter reports (synchronously, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class LineProgress(TextWriter output) : IProgress<double>
    {
        public void Report(double value) => output.Write(string.Create(CultureInfo.InvariantCulture, $" {value * 100:F0}%"));
    }
}
