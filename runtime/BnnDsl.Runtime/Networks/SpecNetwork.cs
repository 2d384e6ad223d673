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
/// ReLU; Flatten passes its input's buffer on. Layers are named as <see cref="ModelPlanner.LayerNames"/> names them, so
/// <see cref="Network.Load"/> reads a generated network's checkpoint and the forward pass computes the same values bit
/// for bit. It runs <see cref="Network.Forward"/> and
/// <see cref="Network.ForwardReference"/> only: training goes through the generated class. Residual blocks
/// and padded poolings are refused.
/// </summary>
public sealed class SpecNetwork : Network
{
    private readonly Layer[] layers;
    private readonly float[][] buffers;
    private readonly Dictionary<string, int> outputOf;
    private readonly float[] logits;
    private readonly float[] lastInput;

    /// <summary>Builds the network of <paramref name="spec"/> (as <see cref="ShapeInference"/> returns it) for batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentException">The spec's shapes are not the ones shape inference gives.</exception>
    /// <exception cref="NotSupportedException">The spec has a residual block or a padded pooling.</exception>
    public SpecNetwork(NetworkSpec spec, int batchSize, KernelPath path = KernelPath.Auto, int threads = 0)
        : base(spec, batchSize, (int)Checked(spec).Input.Elements, OutputElements(spec), hasLoss: false)
    {
        var names = ModelPlanner.LayerNames(spec);
        var built = new List<Layer>();
        var outputs = new List<float[]>();
        // outputOf: index into buffers of each layer's output (-1: the input); Flatten and the loss head reuse their input's
        outputOf = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
        int current = -1;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            var created = Create(layer, names[i], batchSize, path, threads);
            if (created is not null)
            {
                built.Add(created);
                outputs.Add(new float[created.OutputLength]);
                current = built.Count - 1;
            }
            outputOf[names[i]] = current;
        }
        layers = [.. built];
        buffers = [.. outputs];
        lastInput = new float[batchSize * InputLength];
        logits = current < 0 ? lastInput : buffers[current];
        Register(layers, buffers);
    }

    /// <summary>The output of the last <see cref="Network.Forward"/>: the last layer's values (the logits).</summary>
    public override ReadOnlySpan<float> Output => logits;

    /// <summary>
    /// The output of the layer called <paramref name="name"/> (<c>conv1</c>, <c>qact2</c>, …, or <c>input</c>) in
    /// the last <see cref="Network.Forward"/>, for the whole batch; Flatten's is its input's.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The network has no layer of that name.</exception>
    public ReadOnlySpan<float> LayerOutput(string name)
    {
        if (!outputOf.TryGetValue(name, out int index))
            throw new KeyNotFoundException($"Network '{Definition.Name}' has no layer '{name}'; its layers are {string.Join(", ", outputOf.Keys)}.");
        return index < 0 ? lastInput : buffers[index];
    }

    /// <inheritdoc/>
    protected override void ForwardLayers(ReadOnlySpan<float> input, bool training)
    {
        input.CopyTo(lastInput);
        ReadOnlySpan<float> x = input;
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].Forward(x, buffers[i], training);
            x = buffers[i];
        }
    }

    /// <inheritdoc/>
    protected override void ForwardReferenceLayers(ReadOnlySpan<float> input)
    {
        input.CopyTo(lastInput);
        ReadOnlySpan<float> x = input;
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].ForwardReference(x, buffers[i]);
            x = buffers[i];
        }
    }

    private static NetworkSpec Checked(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var names = ModelPlanner.LayerNames(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            string? problem = layer.Kind switch
            {
                LayerKind.Residual or LayerKind.Shortcut or LayerKind.EndResidual => "belongs to a residual block",
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

    private static int OutputElements(NetworkSpec spec)
    {
        var computed = spec.Layers.Where(l => l.Kind != LayerKind.SoftmaxCrossEntropy).ToList();
        return (int)(computed.Count == 0 ? spec.Input.Elements : computed[^1].OutputShape.Elements);
    }

    /// <summary>The layer the generator constructs for <paramref name="layer"/>, or null for Flatten and the loss head.</summary>
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
