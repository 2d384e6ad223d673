// `bnn export-onnx CHECKPOINT -o MODEL.onnx [--float-peer]`: a training checkpoint's float reference as an ONNX model.
using System.Globalization;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Onnx;

namespace BnnDsl.Cli;

/// <summary>Exports a checkpoint with <see cref="OnnxExport.WriteCheckpoint"/>.</summary>
internal static class ExportOnnxCommand
{
    public static int Run(string[] args, TextWriter output)
    {
        var arguments = Arguments.Parse(args, ["-o", "--output"], ["--float-peer", "--json"]);
        if (arguments.Positional.Count != 1)
            throw new UsageException("export-onnx takes one checkpoint file");
        string checkpoint = arguments.Positional[0];
        string model = arguments.Value("-o") ?? arguments.Value("--output") ?? throw new UsageException("export-onnx needs -o MODEL.onnx");
        bool floatPeer = arguments.Has("--float-peer");

        var spec = OnnxExport.WriteCheckpoint(checkpoint, model, new OnnxExportOptions { FloatPeer = floatPeer });
        long bytes = new FileInfo(model).Length;
        var input = spec.Input;
        string inputShape = input.Rank == 3
            ? string.Create(CultureInfo.InvariantCulture, $"N x {input.Channels} x {input.Height} x {input.Width} (NCHW)")
            : string.Create(CultureInfo.InvariantCulture, $"N x {input.Channels}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {model}: {bytes:N0} bytes, ONNX opset {OnnxExport.Opset}, {(floatPeer ? "float peer" : "float reference")} of {spec.Name}; input '{OnnxExport.InputName}' {inputShape}, output '{OnnxExport.OutputName}'"));
        if (arguments.Has("--json"))
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "export-onnx");
                w.WriteString("checkpoint", checkpoint);
                w.WriteString("model", model);
                w.WriteNumber("model_bytes", bytes);
                w.WriteNumber("opset", OnnxExport.Opset);
                w.WriteBoolean("float_peer", floatPeer);
            }));
        return CommandLine.Success;
    }
}
