// A network built at run time from a NetworkSpec (no generated class): the same layer objects the generator emits,
// for the float reference path of tools that only have a model file.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Runtime.Networks;

/// <summary>
/// Interprets a <see cref="NetworkSpec"/> (shapes inferred) as the generator would compile it: each layer becomes the
/// runtime <see cref="Layer"/> the generated code constructs (Convolution → <see cref="Conv2dLayer"/>, binary
/// QConvolution → <see cref="BinaryConv2dLayer"/>, FullyConnected → <see cref="DenseLayer"/>, binary
/// QFullyConnected → <see cref="BinaryDenseLayer"/>, k-bit (2..8) ones → <see cref="QuantizedConv2dLayer"/> /
/// <see cref="QuantizedDenseLayer"/>, BatchNorm, MaxPool, AvgPool, GlobalAvgPool, QActivation(1) →
/// <see cref="SignLayer"/>, QActivation(2..8) → <see cref="QuantizeLayer"/>, ReLU, a residual block's end →
/// <see cref="ResidualAdd"/> of the main path and the shortcut path (or the block input); Flatten and the markers pass
/// a buffer on), named as <see cref="ModelPlanner.LayerNames"/> names them, so <see cref="Network.Load"/> reads a
/// generated network's checkpoint and the forward pass computes the same values bit for bit. It runs
/// <see cref="Network.Forward"/> only: training goes through the generated class. 9..31-bit layers are refused.
/// </summary>
public sealed class SpecNetwork : Network
{
    private readonly Operation[] operations;
    private readonly float[][] buffers;
    private readonly Dictionary<string, int> outputOf;
    private readonly float[] logits;
    private readonly float[] lastInput;

    /// <summary>One forward call: a layer, or the add closing a residual block; buffer indices (-1: the input).</summary>
    private readonly record struct Operation(Layer? Layer, ResidualAdd? Add, int Input, int Shortcut, int Output);

    /// <summary>Builds the network of <paramref name="spec"/> (as <see cref="ShapeInference"/> returns it) for batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentException">The spec's shapes are not the ones shape inference gives.</exception>
    /// <exception cref="NotSupportedException">The spec has a 9..31-bit layer or a padded pooling.</exception>
    public SpecNetwork(NetworkSpec spec, int batchSize, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(spec, batchSize, (int)Checked(spec).Input.Elements, OutputElements(spec), hasLoss: false)
    {
        var names = ModelPlanner.LayerNames(spec);
        var layerList = new List<Layer>();
        var layerOutputs = new List<float[]>();
        var built = new List<Operation>();
        var outputs = new List<float[]>();
        // outputOf: index into buffers of each layer's output (-1: the input); Flatten, the markers and the loss head pass a buffer on
        outputOf = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
        var blocks = new Stack<(int Input, int? Main)>();
        int current = -1;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            switch (layer.Kind)
            {
                case LayerKind.Residual:
                    blocks.Push((current, null));
                    break;
                case LayerKind.Shortcut:
                {
                    var (input, _) = blocks.Pop();
                    blocks.Push((input, current));
                    current = input;
                    break;
                }
                case LayerKind.EndResidual:
                {
                    var (input, main) = blocks.Pop();
                    outputs.Add(new float[batchSize * (int)layer.OutputShape.Elements]);
                    built.Add(new Operation(null, new ResidualAdd(names[i], batchSize, (int)layer.OutputShape.Elements, path, threads),
                        main ?? current, main is null ? input : current, outputs.Count - 1));
                    current = outputs.Count - 1;
                    break;
                }
                default:
                    if (Create(layer, names[i], batchSize, path, threads) is { } created)
                    {
                        outputs.Add(new float[created.OutputLength]);
                        built.Add(new Operation(created, null, current, -1, outputs.Count - 1));
                        layerList.Add(created);
                        layerOutputs.Add(outputs[^1]);
                        current = outputs.Count - 1;
                    }
                    break;
            }
            outputOf[names[i]] = current;
        }
        operations = [.. built];
        buffers = [.. outputs];
        lastInput = new float[batchSize * InputLength];
        logits = current < 0 ? lastInput : buffers[current];
        Register([.. layerList], [.. layerOutputs]);
    }

    /// <summary>The output of the last <see cref="Network.Forward"/>: the last layer's values (the logits).</summary>
    public override ReadOnlySpan<float> Output => logits;

    /// <summary>
    /// The output of the layer called <paramref name="name"/> (<c>conv1</c>, <c>qact2</c>, <c>add1</c>, …, or
    /// <c>input</c>) in the last <see cref="Network.Forward"/>, for the whole batch; Flatten's is its input's, a
    /// Residual marker's the block input, a Shortcut marker's the block input.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The network has no layer of that name.</exception>
    public ReadOnlySpan<float> LayerOutput(string name)
    {
        if (!outputOf.TryGetValue(name, out int index))
            throw new KeyNotFoundException($"Network '{Definition.Name}' has no layer '{name}'; its layers are {string.Join(", ", outputOf.Keys)}.");
        return Buffer(index);
    }

    /// <inheritdoc/>
    protected override void ForwardLayers(ReadOnlySpan<float> input, bool training)
    {
        input.CopyTo(lastInput);
        foreach (var operation in operations)
        {
            if (operation.Layer is { } layer)
                layer.Forward(Buffer(operation.Input), buffers[operation.Output], training);
            else
                operation.Add!.Forward(Buffer(operation.Input), Buffer(operation.Shortcut), buffers[operation.Output]);
        }
    }

    private float[] Buffer(int index) => index < 0 ? lastInput : buffers[index];

    private static NetworkSpec Checked(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var names = ModelPlanner.LayerNames(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            string? problem = layer.Kind switch
            {
                LayerKind.QConvolution or LayerKind.QFullyConnected
                    when !(layer.WeightBits == 1 && layer.ActivationBits == 1) && !(layer.WeightBits == 32 && layer.ActivationBits == 32)
                        && !(LowBit(layer.WeightBits) && LowBit(layer.ActivationBits))
                    => $"has {layer.WeightBits}-bit weights and {layer.ActivationBits}-bit activations",
                LayerKind.QActivation when layer.ActivationBits != 1 && !LowBit(layer.ActivationBits) => $"quantizes to {layer.ActivationBits} bits",
                LayerKind.MaxPool or LayerKind.AvgPool when layer.Pad != 0 => $"has padding {layer.Pad}",
                _ => null,
            };
            if (problem is not null)
                throw new NotSupportedException(
                    $"Layer '{names[i]}' ({layer.Kind}) of network '{spec.Name}' {problem}, which SpecNetwork does not run; use the network's generated class.");
        }
        var inferred = ShapeInference.Infer(spec with { Layers = new EquatableArray<LayerSpec>([.. spec.Layers.Select(l => l with { InputShape = default, OutputShape = default })]) });
        if (!inferred.Succeeded)
            throw new ArgumentException($"Network '{spec.Name}' is not valid ({inferred.Diagnostics[0].Id}: {inferred.Diagnostics[0].Message}); describe a network the DSL accepts.", nameof(spec));
        for (int i = 0; i < spec.Layers.Count; i++)
            if (spec.Layers[i].InputShape != inferred.Network.Layers[i].InputShape || spec.Layers[i].OutputShape != inferred.Network.Layers[i].OutputShape)
                throw new ArgumentException(
                    $"Layer '{names[i]}' of network '{spec.Name}' claims shapes {spec.Layers[i].InputShape} -> {spec.Layers[i].OutputShape} but its options give "
                    + $"{inferred.Network.Layers[i].InputShape} -> {inferred.Network.Layers[i].OutputShape}; use the spec that shape inference produced.", nameof(spec));
        return spec;
    }

    private static bool LowBit(int bits) => bits is >= BitPlanes.MinActivationBits and <= BitPlanes.MaxBits;

    private static int OutputElements(NetworkSpec spec)
    {
        var computed = spec.Layers.Where(l => l.Kind != LayerKind.SoftmaxCrossEntropy).ToList();
        return (int)(computed.Count == 0 ? spec.Input.Elements : computed[^1].OutputShape.Elements);
    }

    /// <summary>The layer the generator constructs for <paramref name="layer"/>, or null for Flatten, the residual markers and the loss head.</summary>
    private static Layer? Create(LayerSpec layer, string name, int batch, KernelPath path, int threads)
    {
        var input = layer.InputShape;
        int h = input.Height, w = input.Width, c = input.Channels;
        bool binary = layer.WeightBits == 1;
        bool lowBit = LowBit(layer.WeightBits);
        return layer.Kind switch
        {
            LayerKind.Convolution => new Conv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad, path: path, threads: threads),
            LayerKind.QConvolution when binary => new BinaryConv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad,
                layer.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One, path, threads),
            LayerKind.QConvolution when lowBit => new QuantizedConv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad,
                layer.WeightBits, layer.ActivationBits, path, threads),
            LayerKind.QConvolution => new Conv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad, bias: false, path, threads),
            LayerKind.FullyConnected => new DenseLayer(name, batch, (int)input.Elements, layer.Units, path: path, threads: threads),
            LayerKind.QFullyConnected when binary => new BinaryDenseLayer(name, batch, (int)input.Elements, layer.Units, path, threads),
            LayerKind.QFullyConnected when lowBit => new QuantizedDenseLayer(name, batch, (int)input.Elements, layer.Units, layer.WeightBits, layer.ActivationBits, path, threads),
            LayerKind.QFullyConnected => new DenseLayer(name, batch, (int)input.Elements, layer.Units, bias: false, path, threads),
            LayerKind.BatchNorm => new BatchNormLayer(name, batch, h * w, c, path: path, threads: threads),
            LayerKind.MaxPool => new MaxPoolLayer(name, batch, h, w, c, layer.Kernel, layer.Stride, path: path, threads: threads),
            LayerKind.AvgPool => new AvgPoolLayer(name, batch, h, w, c, layer.Kernel, layer.Stride, path: path, threads: threads),
            LayerKind.GlobalAvgPool => new GlobalAvgPoolLayer(name, batch, h, w, c, path, threads),
            LayerKind.QActivation when layer.ActivationBits != 1 => new QuantizeLayer(name, batch, (int)input.Elements, layer.ActivationBits, path, threads),
            LayerKind.QActivation => new SignLayer(name, batch, (int)input.Elements, path, threads),
            LayerKind.ReLU => new ReLULayer(name, batch, (int)input.Elements, path, threads),
            _ => null,
        };
    }
}
