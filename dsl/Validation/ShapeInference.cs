// Infers every layer's input and output shape from the network's input, reporting the declarations that do not fit.
using System.Collections.Generic;

namespace BnnDsl;

/// <summary>
/// Walks the layers in order, computing shapes and checking each layer (<see cref="LayerRules"/>). After the first
/// layer whose shape cannot be computed, later shapes stay <see cref="TensorShape.Unknown"/> so that one mistake
/// yields one diagnostic.
/// </summary>
public static class ShapeInference
{
    /// <summary>Returns <paramref name="declared"/> with every shape filled in, and the problems found.</summary>
    public static InferenceResult Infer(NetworkSpec declared)
    {
        var diagnostics = new List<NetworkDiagnostic>();
        var input = declared.Input;
        if (input.Rank != 3 || input.Channels <= 0 || input.Height <= 0 || input.Width <= 0)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.InvalidInputShape, declared.Location,
                declared.Name, input.Channels, input.Height, input.Width));
            input = TensorShape.Unknown;
        }
        if (declared.Layers.Count == 0)
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.NoLayers, declared.Location, declared.Name));

        var layers = new List<LayerSpec>(declared.Layers.Count);
        var shape = input;
        for (int i = 0; i < declared.Layers.Count; i++)
        {
            var layer = declared.Layers[i];
            bool optionsValid = LayerRules.Check(layer, i + 1, diagnostics);
            var output = shape.IsKnown && optionsValid ? Output(layer, i + 1, shape, diagnostics) : TensorShape.Unknown;
            layers.Add(layer with { InputShape = shape, OutputShape = output });
            shape = output;
        }
        var network = declared with { Layers = new EquatableArray<LayerSpec>(layers) };
        return new InferenceResult(network, new EquatableArray<NetworkDiagnostic>(diagnostics));
    }

    private static TensorShape Output(LayerSpec layer, int number, TensorShape input, List<NetworkDiagnostic> diagnostics)
    {
        switch (layer.Kind)
        {
            case LayerKind.QConvolution or LayerKind.Convolution:
                return Window(layer, number, input, layer.Units, layer.Pad, diagnostics);
            case LayerKind.MaxPool or LayerKind.AvgPool:
                return Window(layer, number, input, input.Channels, 0, diagnostics);
            case LayerKind.QFullyConnected or LayerKind.FullyConnected:
                if (input.Rank == 1)
                    return TensorShape.Vector(layer.Units);
                diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.FlattenMissing, layer.Location, number, layer.Kind, input));
                return TensorShape.Unknown;
            case LayerKind.GlobalAvgPool:
                if (input.Rank == 3)
                    return TensorShape.Vector(input.Channels);
                diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.SpatialLayerOnFlatInput, layer.Location, number, layer.Kind, input));
                return TensorShape.Unknown;
            case LayerKind.Flatten:
                return TensorShape.Vector(checked((int)input.Elements));
            default:
                return input;
        }
    }

    private static TensorShape Window(LayerSpec layer, int number, TensorShape input, int channels, int pad, List<NetworkDiagnostic> diagnostics)
    {
        if (input.Rank != 3)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.SpatialLayerOnFlatInput, layer.Location, number, layer.Kind, input));
            return TensorShape.Unknown;
        }
        int paddedHeight = input.Height + 2 * pad, paddedWidth = input.Width + 2 * pad;
        if (layer.Kernel > paddedHeight || layer.Kernel > paddedWidth)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.KernelLargerThanInput, layer.Location,
                layer.Kernel, number, layer.Kind, input, paddedHeight, paddedWidth));
            return TensorShape.Unknown;
        }
        return TensorShape.Image(channels,
            (paddedHeight - layer.Kernel) / layer.Stride + 1,
            (paddedWidth - layer.Kernel) / layer.Stride + 1);
    }
}
