// A network built at run time from a NetworkSpec (no generated class): the same layer objects the generator emits,
// for the float reference path of tools that only have a model file.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Runtime.Networks;

/// <summary>
/// Interprets a <see cref="NetworkSpec"/> (shapes inferred) as the generator would compile it: each layer becomes the
/// runtime <see cref="Layer"/> the generated code constructs, chosen by the same rule (<see cref="LayerKernels"/>):
/// Convolution → <see cref="Conv2dLayer"/>; QConvolution → <see cref="BinaryConv2dLayer"/> (1/1),
/// <see cref="QuantizedConv2dLayer"/> (2..8 bits both), <see cref="Conv2dLayer"/> (32/32, and quantize-dequantize for
/// 9..31 bits and mixed widths); FullyConnected and QFullyConnected likewise with the dense layers; BatchNorm, MaxPool,
/// AvgPool, GlobalAvgPool; QActivation → <see cref="SignLayer"/> (1 bit) or <see cref="QuantizeLayer"/> (2..32 bits);
/// ReLU; a residual block's end → <see cref="ResidualAdd"/> of the main path and the shortcut path (or the block
/// input); Flatten and the markers pass a buffer on. Layers are named as <see cref="ModelPlanner.LayerNames"/> names
/// them, so <see cref="Network.Load"/> reads a generated network's checkpoint and the forward pass computes the same
/// values bit for bit. It runs <see cref="Network.Forward"/> and <see cref="Network.ForwardReference"/>, and, for a
/// network that ends in a loss head, <see cref="Network.Loss"/> and <see cref="Network.Backward"/> as the generated
/// backward pass runs them: last operation first, only where a layer with parameters lies upstream; a buffer read by
/// several operations (a block input) takes the first gradient sent to it as is and adds the others. Padded poolings
/// are refused.
/// </summary>
public sealed class SpecNetwork : Network
{
    private readonly Operation[] operations;
    private readonly float[][] buffers;
    private readonly Dictionary<string, int> outputOf;
    private readonly float[] logits;
    private readonly float[] lastInput;
    private readonly float[][] gradients = [];
    private readonly bool[] needsGradient = [];
    private readonly bool[] written = [];
    private readonly float[] partial = [];

    /// <summary>One forward call: a layer, or the add closing a residual block; buffer indices (-1: the input).</summary>
    private readonly record struct Operation(Layer? Layer, ResidualAdd? Add, int Input, int Shortcut, int Output);

    /// <summary>Builds the network of <paramref name="spec"/> (as <see cref="ShapeInference"/> returns it) for batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentException">The spec's shapes are not the ones shape inference gives.</exception>
    /// <exception cref="NotSupportedException">The spec has a padded pooling.</exception>
    public SpecNetwork(NetworkSpec spec, int batchSize, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(spec, batchSize, (int)Checked(spec).Input.Elements, OutputElements(spec), hasLoss: spec.Layers.Count > 0 && spec.Layers[^1].Kind == LayerKind.SoftmaxCrossEntropy)
    {
        var names = ModelPlanner.LayerNames(spec);
        var layerList = new List<Layer>();
        var layerOutputs = new List<float[]>();
        var built = new List<Operation>();
        var outputs = new List<float[]>();
        // outputOf: index into buffers of each layer's output (-1: the input); Flatten, the markers and the loss head pass a buffer on
        outputOf = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
        int last = LayerWiring.Walk(spec,
            (i, input) =>
            {
                if (Create(spec.Layers[i], names[i], batchSize, path, threads) is not { } created)
                    return false;
                outputs.Add(new float[created.OutputLength]);
                built.Add(new Operation(created, null, input, -1, outputs.Count - 1));
                layerList.Add(created);
                layerOutputs.Add(outputs[^1]);
                return true;
            },
            (i, main, shortcut) =>
            {
                int elements = (int)spec.Layers[i].OutputShape.Elements;
                outputs.Add(new float[batchSize * elements]);
                built.Add(new Operation(null, new ResidualAdd(names[i], batchSize, elements, path, threads), main, shortcut, outputs.Count - 1));
            },
            (i, output) => outputOf[names[i]] = output);
        operations = [.. built];
        buffers = [.. outputs];
        lastInput = new float[batchSize * InputLength];
        logits = last < 0 ? lastInput : buffers[last];
        Register([.. layerList], [.. layerOutputs]);
        if (HasLoss)
        {
            // needsGradient[i]: buffer i depends on a parameter, so its gradient flows back (the generated code's rule)
            needsGradient = new bool[buffers.Length];
            foreach (var o in operations)
                needsGradient[o.Output] = o.Layer is { Parameters.Count: > 0 } || Needs(o.Input) || (o.Add is not null && Needs(o.Shortcut));
            gradients = [.. buffers.Select(b => new float[b.Length])];
            written = new bool[buffers.Length];
            partial = new float[buffers.Select(b => b.Length).DefaultIfEmpty(0).Max()];
        }
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

    /// <inheritdoc/>
    protected override void ForwardReferenceLayers(ReadOnlySpan<float> input)
    {
        input.CopyTo(lastInput);
        foreach (var operation in operations)
        {
            if (operation.Layer is { } layer)
                layer.ForwardReference(Buffer(operation.Input), buffers[operation.Output]);
            else
                operation.Add!.Forward(Buffer(operation.Input), Buffer(operation.Shortcut), buffers[operation.Output]);
        }
    }

    /// <inheritdoc/>
    protected override void BackwardLayers(ReadOnlySpan<float> input, ReadOnlySpan<float> logitGradient)
    {
        Array.Clear(written);
        for (int i = operations.Length - 1; i >= 0; i--)
        {
            var operation = operations[i];
            if (!needsGradient[operation.Output])
                continue;
            ReadOnlySpan<float> dy = i == operations.Length - 1 ? logitGradient : gradients[operation.Output];
            if (operation.Add is { } add)
            {
                Send(add, dy, operation.Input);
                Send(add, dy, operation.Shortcut);
                continue;
            }
            var layer = operation.Layer!;
            if (!Needs(operation.Input))
            {
                layer.Backward(Buffer(operation.Input), buffers[operation.Output], dy, Span<float>.Empty);
                continue;
            }
            int x = operation.Input;
            if (!written[x])
            {
                layer.Backward(Buffer(x), buffers[operation.Output], dy, gradients[x]);
                written[x] = true;
                continue;
            }
            var sent = partial.AsSpan(0, gradients[x].Length);
            layer.Backward(Buffer(x), buffers[operation.Output], dy, sent);
            Elementwise.Add(sent, gradients[x]);
        }
    }

    private bool Needs(int buffer) => buffer >= 0 && needsGradient[buffer];

    /// <summary>A residual add's dy into one of the buffers it read: as is for the first gradient, added to the others.</summary>
    private void Send(ResidualAdd add, ReadOnlySpan<float> dy, int read)
    {
        if (!Needs(read))
            return;
        if (written[read])
            add.Accumulate(gradients[read], dy);
        else
            add.Pass(dy, gradients[read]);
        written[read] = true;
    }

    private float[] Buffer(int index) => index < 0 ? lastInput : buffers[index];

    private static NetworkSpec Checked(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var names = ModelPlanner.LayerNames(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            if (layer.Kind is LayerKind.MaxPool or LayerKind.AvgPool && layer.Pad != 0)
                throw new NotSupportedException(
                    $"Layer '{names[i]}' ({layer.Kind}) of network '{spec.Name}' has padding {layer.Pad}, which SpecNetwork does not run; use the network's generated class.");
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

    private static int OutputElements(NetworkSpec spec)
    {
        var computed = spec.Layers.Where(l => l.Kind != LayerKind.SoftmaxCrossEntropy).ToList();
        return (int)(computed.Count == 0 ? spec.Input.Elements : computed[^1].OutputShape.Elements);
    }

    /// <summary>The layer the generator constructs for <paramref name="layer"/>, or null for Flatten, the residual markers and the loss head.</summary>
    private static Layer? Create(LayerSpec layer, string name, int batch, KernelPath path, int threads)
    {
        var input = layer.InputShape;
        int h = input.Height, w = input.Width, c = input.Channels, inputs = (int)input.Elements;
        int weightBits = layer.WeightBits, activationBits = layer.ActivationBits;
        var padding = layer.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One;
        var kernel = LayerKernels.Of(layer);
        return layer.Kind switch
        {
            LayerKind.Convolution => new Conv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad, path: path, threads: threads),
            LayerKind.QConvolution => kernel switch
            {
                LayerKernel.Xnor => new BinaryConv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad, padding, path, threads),
                LayerKernel.BitSerial => new QuantizedConv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad,
                    weightBits, activationBits, path, threads),
                _ => new Conv2dLayer(name, batch, h, w, c, layer.Units, layer.Kernel, layer.Stride, layer.Pad, bias: false, path, threads,
                    weightBits, activationBits, padding),
            },
            LayerKind.FullyConnected => new DenseLayer(name, batch, inputs, layer.Units, path: path, threads: threads),
            LayerKind.QFullyConnected => kernel switch
            {
                LayerKernel.Xnor => new BinaryDenseLayer(name, batch, inputs, layer.Units, path, threads),
                LayerKernel.BitSerial => new QuantizedDenseLayer(name, batch, inputs, layer.Units, weightBits, activationBits, path, threads),
                _ => new DenseLayer(name, batch, inputs, layer.Units, bias: false, path, threads, weightBits, activationBits),
            },
            LayerKind.BatchNorm => new BatchNormLayer(name, batch, h * w, c, path: path, threads: threads),
            LayerKind.MaxPool => new MaxPoolLayer(name, batch, h, w, c, layer.Kernel, layer.Stride, path: path, threads: threads),
            LayerKind.AvgPool => new AvgPoolLayer(name, batch, h, w, c, layer.Kernel, layer.Stride, path: path, threads: threads),
            LayerKind.GlobalAvgPool => new GlobalAvgPoolLayer(name, batch, h, w, c, path, threads),
            LayerKind.QActivation when kernel == LayerKernel.Sign => new SignLayer(name, batch, inputs, path, threads),
            LayerKind.QActivation => new QuantizeLayer(name, batch, inputs, activationBits, path, threads),
            LayerKind.ReLU => new ReLULayer(name, batch, inputs, path, threads),
            _ => null,
        };
    }
}
