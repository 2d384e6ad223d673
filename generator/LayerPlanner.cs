// Decides, per declared layer, which runtime layer class runs it, with which compile-time constants, and which
// buffers carry its activations and gradients; also rejects what the generated code cannot run.
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace BnnDsl.Generator;

/// <summary>
/// One layer of the generated code. <see cref="Type"/> is null for layers without an object (Flatten, the loss head,
/// the Residual and Shortcut markers). <see cref="Input"/> is the buffer the layer reads (for Shortcut: the main
/// path's output); an EndResidual also reads <see cref="Shortcut"/> and adds it to <see cref="Input"/>.
/// </summary>
internal sealed record LayerCall(
    int Number, LayerSpec Layer, string Field, string? Type, string Arguments,
    string Input, string Output, string OutputGradient, int OutputLength, bool HasParameters, string? Shortcut = null)
{
    /// <summary>True for the runtime Layer objects the network registers (not the residual adds).</summary>
    public bool IsLayer => Type is not null && Layer.Kind != LayerKind.EndResidual;

    /// <summary>True for the binary and k-bit layers, whose float reference (<c>ForwardReference</c>) simulates their bit kernel.</summary>
    public bool HasFloatReference => Layer.Kind is LayerKind.QConvolution or LayerKind.QFullyConnected && Layer.WeightBits < 32;
}

/// <summary>What one statement of the generated backward pass does.</summary>
internal enum BackwardAction
{
    /// <summary><c>Object.Backward(x, y, Gradient, Into)</c>: the layer's own backward.</summary>
    Layer,
    /// <summary><c>Object.Pass(Gradient, Into)</c>: a residual add hands its output gradient to one path unchanged.</summary>
    Pass,
    /// <summary><c>Object.Accumulate(Into, Gradient)</c>: a block input's gradient adds what one more path sends back.</summary>
    Accumulate,
}

/// <summary>One statement of the generated backward pass, for <see cref="Call"/>'s layer, run by the field <see cref="Object"/>.</summary>
internal sealed record BackwardStep(LayerCall Call, BackwardAction Action, string Object, string Gradient, string Into);

/// <summary>The generated network: its calls, its backward statements (last layer first) and its buffers.</summary>
internal sealed record NetworkPlan(
    IReadOnlyList<LayerCall> Calls, IReadOnlyList<BackwardStep> Backward, IReadOnlyList<(string Name, int Length)> Activations,
    IReadOnlyList<(string Name, int Length)> Gradients, string Logits, int InputLength, int OutputLength, bool HasLoss);

internal static class LayerPlanner
{
    public const string InputBuffer = "input";
    public const string LogitGradient = "logitGradient";
    public const string NoGradient = "global::System.Span<float>.Empty";

    /// <summary>
    /// The problems that stop code generation for an otherwise valid network. Every bit width 1..32 runs (see
    /// <see cref="LayerKernels"/>), so what remains is a loss head that is not the last layer.
    /// </summary>
    public static List<NetworkDiagnostic> Check(NetworkSpec network)
    {
        var problems = new List<NetworkDiagnostic>();
        for (int i = 0; i < network.Layers.Count - 1; i++)
        {
            var layer = network.Layers[i];
            if (layer.Kind == LayerKind.SoftmaxCrossEntropy)
                problems.Add(NetworkDiagnostic.Create(BnnDiagnostics.NotGeneratable, layer.Location, i + 1, layer.Kind,
                    "is a loss head but not the last layer", "move it to the end of the network"));
        }
        return problems;
    }

    /// <summary>
    /// Assigns buffers: aN holds the output of layer N, dN dLoss/d aN. Flatten and the markers pass their
    /// input's buffer on (Shortcut passes the block input's). Backward runs a layer when it, or a layer before it
    /// on its path, has parameters. A buffer read by one residual add only takes the add's output gradient as is; a
    /// buffer read by several layers (a block input) gets the first gradient written into it and the others written
    /// into gN (the gradient of layer N's input) and accumulated.
    /// </summary>
    public static NetworkPlan Plan(NetworkSpec network)
    {
        var layers = network.Layers;
        int count = layers.Count;
        bool hasLoss = count > 0 && layers[count - 1].Kind == LayerKind.SoftmaxCrossEntropy;
        int computed = hasLoss ? count - 1 : count;
        var names = LayerNames.Of(network);
        var fields = new string[count];
        var output = new string[count];
        var reads = new string[count][];
        var block = new int[count];
        var closedBy = new Dictionary<int, int>();
        var producer = new Dictionary<string, int> { [InputBuffer] = -1 };
        var length = new Dictionary<string, int> { [InputBuffer] = (int)network.Input.Elements };
        var needsGradient = new Dictionary<string, bool> { [InputBuffer] = false };
        var open = new Stack<(int Residual, string Input, string? MainOutput)>();
        for (int i = 0; i < count; i++)
        {
            var layer = layers[i];
            string input = i == 0 ? InputBuffer : output[i - 1];
            fields[i] = names[i];
            block[i] = open.Count == 0 ? -1 : open.Peek().Residual;
            reads[i] = [input];
            switch (layer.Kind)
            {
                case LayerKind.Residual:
                    open.Push((i, input, null));
                    output[i] = input;
                    continue;
                case LayerKind.Shortcut:
                    var (residual, blockInput, _) = open.Pop();
                    open.Push((residual, blockInput, input));
                    output[i] = blockInput;
                    continue;
                case LayerKind.Flatten or LayerKind.SoftmaxCrossEntropy:
                    output[i] = input;
                    continue;
                case LayerKind.EndResidual:
                    var closing = open.Pop();
                    block[i] = closing.Residual;
                    closedBy[closing.Residual] = i;
                    reads[i] = closing.MainOutput is null ? [input, closing.Input] : [closing.MainOutput, input];
                    break;
            }
            output[i] = "a" + (i + 1).ToString(CultureInfo.InvariantCulture);
            producer[output[i]] = i;
            length[output[i]] = (int)layer.OutputShape.Elements;
            needsGradient[output[i]] = HasParameters(layer) || reads[i].Any(b => needsGradient[b]);
        }

        string logits = computed == 0 ? InputBuffer : output[computed - 1];
        bool RunsBackward(int i) => i < computed && producer.TryGetValue(output[i], out int p) && p == i && needsGradient[output[i]];

        // The layers that send a gradient to each buffer (one entry per read), among those that run backward.
        var senders = new Dictionary<string, List<int>>();
        for (int i = 0; i < computed; i++)
            if (RunsBackward(i))
                foreach (string read in reads[i].Where(b => needsGradient[b]))
                {
                    if (!senders.TryGetValue(read, out var list))
                        senders[read] = list = [];
                    list.Add(i);
                }

        var gradient = new Dictionary<string, string>();
        var gradients = new List<(int Index, string Name, int Length)>();
        foreach (string buffer in producer.Keys.OrderByDescending(b => producer[b]))
        {
            if (hasLoss && buffer == logits && buffer != InputBuffer)
                gradient[buffer] = LogitGradient;
            else if (!needsGradient[buffer])
                gradient[buffer] = NoGradient;
            else if (senders.TryGetValue(buffer, out var from) && from.Count == 1 && layers[from[0]].Kind == LayerKind.EndResidual)
                gradient[buffer] = gradient[output[from[0]]];
            else
            {
                gradient[buffer] = "d" + (producer[buffer] + 1).ToString(CultureInfo.InvariantCulture);
                gradients.Add((producer[buffer], gradient[buffer], length[buffer]));
            }
        }

        var calls = new List<LayerCall>();
        for (int i = 0; i < count; i++)
        {
            var layer = layers[i];
            var (type, arguments) = Construct(layer, fields[i]);
            bool add = layer.Kind == LayerKind.EndResidual;
            calls.Add(new LayerCall(i + 1, layer, fields[i], type, arguments, reads[i][0], output[i],
                gradient.TryGetValue(output[i], out string? d) ? d : NoGradient, (int)layer.OutputShape.Elements, HasParameters(layer),
                add ? reads[i][1] : null));
        }

        var steps = new List<BackwardStep>();
        var written = new HashSet<string>();
        for (int i = computed - 1; i >= 0; i--)
        {
            if (!RunsBackward(i))
                continue;
            var call = calls[i];
            if (layers[i].Kind == LayerKind.EndResidual)
            {
                foreach (string read in reads[i])
                {
                    string target = gradient[read];
                    if (target == NoGradient || target == call.OutputGradient)
                        continue;
                    steps.Add(written.Add(read)
                        ? new BackwardStep(call, BackwardAction.Pass, call.Field, call.OutputGradient, target)
                        : new BackwardStep(call, BackwardAction.Accumulate, call.Field, call.OutputGradient, target));
                }
                continue;
            }
            string x = reads[i][0], dx = gradient[x];
            if (dx == NoGradient || written.Add(x))
            {
                steps.Add(new BackwardStep(call, BackwardAction.Layer, call.Field, call.OutputGradient, dx));
                continue;
            }
            string partial = "g" + (i + 1).ToString(CultureInfo.InvariantCulture);
            gradients.Add((i, partial, length[x]));
            steps.Add(new BackwardStep(call, BackwardAction.Layer, call.Field, call.OutputGradient, partial));
            steps.Add(new BackwardStep(call, BackwardAction.Accumulate, fields[closedBy[block[i]]], partial, dx));
        }

        var activations = Enumerable.Range(0, count).Where(i => producer.TryGetValue(output[i], out int p) && p == i)
            .Select(i => (output[i], length[output[i]])).ToList();
        int outputLength = (int)(computed == 0 ? network.Input.Elements : layers[computed - 1].OutputShape.Elements);
        return new NetworkPlan(calls, steps, activations, [.. gradients.OrderBy(g => g.Index).Select(g => (g.Name, g.Length))],
            logits, (int)network.Input.Elements, outputLength, hasLoss);
    }

    private static bool HasParameters(LayerSpec layer) => layer.Kind is LayerKind.Convolution or LayerKind.QConvolution
        or LayerKind.FullyConnected or LayerKind.QFullyConnected or LayerKind.BatchNorm;

    /// <summary>
    /// The runtime class and its constructor arguments after (name, batch): the class follows the layer's
    /// <see cref="LayerKernels"/> kernel, as <c>SpecNetwork</c> builds it at run time.
    /// </summary>
    private static (string? Type, string Arguments) Construct(LayerSpec layer, string field)
    {
        var input = layer.InputShape;
        string ns = "global::BnnDsl.Runtime.Layers.";
        string head = Invariant($"\"{field}\", batchSize");
        string spatial = Invariant($"{input.Height}, {input.Width}, {input.Channels}");
        string conv = Invariant($"{head}, {spatial}, {layer.Units}, {layer.Kernel}, {layer.Stride}, {layer.Pad}");
        string dense = Invariant($"{head}, {input.Elements}, {layer.Units}");
        string padding = Invariant($"global::BnnDsl.Kernels.Cpu.BinaryPadding.{layer.Padding}");
        string widths = Invariant($"{layer.WeightBits}, {layer.ActivationBits}");
        string dequantized = Invariant($"bias: false, weightBits: {layer.WeightBits}, activationBits: {layer.ActivationBits}");
        var kernel = LayerKernels.Of(layer);
        return layer.Kind switch
        {
            LayerKind.Convolution => (ns + "Conv2dLayer", conv),
            LayerKind.QConvolution => kernel switch
            {
                LayerKernel.Xnor => (ns + "BinaryConv2dLayer", Invariant($"{conv}, {padding}")),
                LayerKernel.BitSerial => (ns + "QuantizedConv2dLayer", Invariant($"{conv}, {widths}")),
                LayerKernel.Float => (ns + "Conv2dLayer", Invariant($"{conv}, bias: false")),
                _ when layer.ActivationBits == 1 => (ns + "Conv2dLayer", Invariant($"{conv}, {dequantized}, padding: {padding}")),
                _ => (ns + "Conv2dLayer", Invariant($"{conv}, {dequantized}")),
            },
            LayerKind.FullyConnected => (ns + "DenseLayer", dense),
            LayerKind.QFullyConnected => kernel switch
            {
                LayerKernel.Xnor => (ns + "BinaryDenseLayer", dense),
                LayerKernel.BitSerial => (ns + "QuantizedDenseLayer", Invariant($"{dense}, {widths}")),
                LayerKernel.Float => (ns + "DenseLayer", Invariant($"{dense}, bias: false")),
                _ => (ns + "DenseLayer", Invariant($"{dense}, {dequantized}")),
            },
            LayerKind.BatchNorm => (ns + "BatchNormLayer", Invariant($"{head}, {input.Height * input.Width}, {input.Channels}")),
            LayerKind.MaxPool => (ns + "MaxPoolLayer", Invariant($"{head}, {spatial}, {layer.Kernel}, {layer.Stride}")),
            LayerKind.AvgPool => (ns + "AvgPoolLayer", Invariant($"{head}, {spatial}, {layer.Kernel}, {layer.Stride}")),
            LayerKind.GlobalAvgPool => (ns + "GlobalAvgPoolLayer", Invariant($"{head}, {spatial}")),
            LayerKind.QActivation when kernel == LayerKernel.Quantize => (ns + "QuantizeLayer", Invariant($"{head}, {input.Elements}, {layer.ActivationBits}")),
            LayerKind.QActivation => (ns + "SignLayer", Invariant($"{head}, {input.Elements}")),
            LayerKind.ReLU => (ns + "ReLULayer", Invariant($"{head}, {input.Elements}")),
            LayerKind.EndResidual => (ns + "ResidualAdd", Invariant($"{head}, {layer.OutputShape.Elements}")),
            _ => (null, ""),
        };
    }

    private static string Invariant(System.FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
