// Infers every layer's input and output shape from the network's input, reporting the declarations that do not fit.
using System.Collections.Generic;
using System.Linq;

namespace BnnDsl;

/// <summary>
/// Walks the layers in order, computing shapes and checking each layer (<see cref="LayerRules"/>). After the first
/// layer whose shape cannot be computed, later shapes stay <see cref="TensorShape.Unknown"/> so that one mistake
/// yields one diagnostic. Residual blocks are tracked on a stack: <see cref="LayerKind.Shortcut"/> outputs the block
/// input, <see cref="LayerKind.EndResidual"/> checks that both paths end in the same shape (BNN0016); markers
/// without their partner are BNN0017.
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
        var blocks = new Stack<Block>();
        var shape = input;
        for (int i = 0; i < declared.Layers.Count; i++)
        {
            var layer = declared.Layers[i];
            bool optionsValid = LayerRules.Check(layer, i + 1, diagnostics);
            var output = layer.Kind is LayerKind.Residual or LayerKind.Shortcut or LayerKind.EndResidual
                ? Marker(layer, i + 1, shape, blocks, diagnostics)
                : shape.IsKnown && optionsValid ? Output(layer, i + 1, shape, diagnostics) : TensorShape.Unknown;
            layers.Add(layer with { InputShape = shape, OutputShape = output });
            shape = output;
        }
        foreach (var block in blocks.Reverse())
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, block.Location,
                Invariant($"Residual block of layer {block.Number} is never closed"), "add [EndResidual] ('end' in .bnn) after its layers"));
        var network = declared with { Layers = new EquatableArray<LayerSpec>(layers) };
        return new InferenceResult(network, new EquatableArray<NetworkDiagnostic>(diagnostics));
    }

    // An open residual block: where it starts, its input, and the main path's output once [Shortcut] is seen.
    private sealed class Block(int number, SourceLocation? location, TensorShape input)
    {
        public int Number { get; } = number;
        public SourceLocation? Location { get; } = location;
        public TensorShape Input { get; } = input;
        public bool HasShortcut { get; set; }
        public TensorShape MainOutput { get; set; }
    }

    private static TensorShape Marker(LayerSpec layer, int number, TensorShape input, Stack<Block> blocks, List<NetworkDiagnostic> diagnostics)
    {
        if (layer.Kind == LayerKind.Residual)
        {
            blocks.Push(new Block(number, layer.Location, input));
            return input;
        }
        if (blocks.Count == 0)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, layer.Location,
                Invariant($"Layer {number} ({layer.Kind}) is not inside a residual block"),
                "open the block with [Residual] ('residual' in .bnn) before its main path"));
            return TensorShape.Unknown;
        }
        var block = blocks.Peek();
        if (layer.Kind == LayerKind.Shortcut)
        {
            if (block.HasShortcut)
            {
                diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, layer.Location,
                    Invariant($"Layer {number} is a second Shortcut in the residual block of layer {block.Number}"),
                    "keep one [Shortcut] per block, or close the block with [EndResidual] first"));
                return TensorShape.Unknown;
            }
            block.HasShortcut = true;
            block.MainOutput = input;
            return input.IsKnown ? block.Input : TensorShape.Unknown;
        }
        blocks.Pop();
        var main = block.HasShortcut ? block.MainOutput : input;
        var shortcut = block.HasShortcut ? input : block.Input;
        if (!main.IsKnown || !shortcut.IsKnown)
            return TensorShape.Unknown;
        if (main == shortcut)
            return main;
        diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.ResidualShapeMismatch, layer.Location,
            number, main, block.HasShortcut ? shortcut.ToString() : shortcut + " (the block input)", Fix(main, block.Input, block.HasShortcut)));
        return TensorShape.Unknown;
    }

    private static string Fix(TensorShape main, TensorShape blockInput, bool hasShortcut)
    {
        if (main.Rank != 3 || blockInput.Rank != 3)
            return "make both paths end in the same shape";
        string layers = main.Height < blockInput.Height && blockInput.Height % main.Height == 0
            ? Invariant($"AvgPool(size {blockInput.Height / main.Height}) + 1x1 Convolution({main.Channels}) + BatchNorm")
            : Invariant($"1x1 Convolution({main.Channels}) + BatchNorm");
        return hasShortcut
            ? Invariant($"make the shortcut path end in {main}, e.g. with {layers}")
            : Invariant($"add a downsampling shortcut ending in {main}, e.g. [Shortcut] then {layers}");
    }

    private static string Invariant(System.FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

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
