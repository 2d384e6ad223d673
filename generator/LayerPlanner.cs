// Decides, per declared layer, which runtime layer class runs it, with which compile-time constants, and which
// buffers carry its activations and gradients; also rejects what the generated code cannot run.
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace BnnDsl.Generator;

/// <summary>One layer of the generated code. <see cref="Type"/> is null for layers without an object (Flatten, the loss head).</summary>
internal sealed record LayerCall(
    int Number, LayerSpec Layer, string Field, string? Type, string Arguments,
    string Input, string Output, string InputGradient, string OutputGradient, int OutputLength, bool HasParameters);

/// <summary>The generated network: its calls, buffers and where backward stops.</summary>
internal sealed record NetworkPlan(
    IReadOnlyList<LayerCall> Calls, IReadOnlyList<(string Name, int Length)> Activations,
    IReadOnlyList<(string Name, int Length)> Gradients, string Logits, int InputLength, int OutputLength, bool HasLoss, int FirstTrainable);

internal static class LayerPlanner
{
    public const string InputBuffer = "input";
    public const string LogitGradient = "logitGradient";
    public const string NoGradient = "global::System.Span<float>.Empty";

    /// <summary>The problems that stop code generation for an otherwise valid network.</summary>
    public static List<NetworkDiagnostic> Check(NetworkSpec network)
    {
        var problems = new List<NetworkDiagnostic>();
        for (int i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            string? problem = null, fix = null;
            switch (layer.Kind)
            {
                case LayerKind.QConvolution or LayerKind.QFullyConnected
                    when !(layer.WeightBits == 1 && layer.ActivationBits == 1) && !(layer.WeightBits == 32 && layer.ActivationBits == 32):
                    problem = Invariant($"has {layer.WeightBits}-bit weights and {layer.ActivationBits}-bit activations, which the generated training code does not run yet");
                    fix = "use WeightBits = ActBits = 1 (XNOR) or 32 (float)";
                    break;
                case LayerKind.QActivation when layer.ActivationBits != 1:
                    problem = Invariant($"quantizes to {layer.ActivationBits} bits, which the generated training code does not run yet");
                    fix = "use QActivation(1)";
                    break;
                case LayerKind.SoftmaxCrossEntropy when i != network.Layers.Count - 1:
                    problem = "is a loss head but not the last layer";
                    fix = "move it to the end of the network";
                    break;
            }
            if (problem is not null)
                problems.Add(NetworkDiagnostic.Create(BnnDiagnostics.NotGeneratable, layer.Location, i + 1, layer.Kind, problem, fix!));
        }
        return problems;
    }

    public static NetworkPlan Plan(NetworkSpec network)
    {
        var layers = network.Layers;
        int count = layers.Count;
        bool hasLoss = count > 0 && layers[count - 1].Kind == LayerKind.SoftmaxCrossEntropy;
        int computed = hasLoss ? count - 1 : count;
        var counters = new Dictionary<string, int>();
        var output = new string[count];
        var outputGradient = new string[count];
        var activations = new List<(string, int)>();
        var gradients = new List<(string, int)>();

        int firstTrainable = computed;
        for (int i = 0; i < computed; i++)
            if (HasParameters(layers[i]))
            {
                firstTrainable = i;
                break;
            }

        var calls = new List<LayerCall>();
        for (int i = 0; i < count; i++)
        {
            var layer = layers[i];
            string input = i == 0 ? InputBuffer : output[i - 1];
            string inputGradient = i == 0 || i <= firstTrainable ? NoGradient : outputGradient[i - 1];
            int length = (int)layer.OutputShape.Elements;
            string field = Field(layer, counters);
            if (layer.Kind is LayerKind.Flatten or LayerKind.SoftmaxCrossEntropy)
            {
                output[i] = input;
                outputGradient[i] = i == 0 ? NoGradient : outputGradient[i - 1];
            }
            else
            {
                output[i] = "a" + (i + 1).ToString(CultureInfo.InvariantCulture);
                activations.Add((output[i], length));
                if (i == computed - 1 && hasLoss)
                {
                    outputGradient[i] = LogitGradient;
                }
                else if (i >= firstTrainable)
                {
                    outputGradient[i] = "d" + (i + 1).ToString(CultureInfo.InvariantCulture);
                    gradients.Add((outputGradient[i], length));
                }
                else
                {
                    outputGradient[i] = NoGradient;
                }
            }
            var (type, arguments) = Construct(layer, field);
            calls.Add(new LayerCall(i + 1, layer, field, type, arguments, input, output[i], inputGradient, outputGradient[i], length, HasParameters(layer)));
        }

        string logits = computed == 0 ? InputBuffer : output[computed - 1];
        int outputLength = (int)(computed == 0 ? network.Input.Elements : layers[computed - 1].OutputShape.Elements);
        return new NetworkPlan(calls, activations, gradients, logits, (int)network.Input.Elements, outputLength, hasLoss, firstTrainable + 1);
    }

    private static bool HasParameters(LayerSpec layer) => layer.Kind is LayerKind.Convolution or LayerKind.QConvolution
        or LayerKind.FullyConnected or LayerKind.QFullyConnected or LayerKind.BatchNorm;

    private static string Field(LayerSpec layer, Dictionary<string, int> counters)
    {
        string stem = layer.Kind switch
        {
            LayerKind.Convolution => "conv",
            LayerKind.QConvolution => "qconv",
            LayerKind.FullyConnected => "fc",
            LayerKind.QFullyConnected => "qfc",
            LayerKind.QActivation => "qact",
            LayerKind.BatchNorm => "bn",
            LayerKind.MaxPool => "maxpool",
            LayerKind.AvgPool => "avgpool",
            LayerKind.GlobalAvgPool => "gap",
            LayerKind.Flatten => "flatten",
            LayerKind.ReLU => "relu",
            _ => "loss",
        };
        counters.TryGetValue(stem, out int n);
        counters[stem] = ++n;
        return stem + n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The runtime class and its constructor arguments after (name, batch).</summary>
    private static (string? Type, string Arguments) Construct(LayerSpec layer, string field)
    {
        var input = layer.InputShape;
        string ns = "global::BnnDsl.Runtime.Layers.";
        string head = Invariant($"\"{field}\", batchSize");
        string spatial = Invariant($"{input.Height}, {input.Width}, {input.Channels}");
        bool binary = layer.WeightBits == 1;
        return layer.Kind switch
        {
            LayerKind.Convolution => (ns + "Conv2dLayer", Invariant($"{head}, {spatial}, {layer.Units}, {layer.Kernel}, {layer.Stride}, {layer.Pad}")),
            LayerKind.QConvolution when binary => (ns + "BinaryConv2dLayer",
                Invariant($"{head}, {spatial}, {layer.Units}, {layer.Kernel}, {layer.Stride}, {layer.Pad}, global::BnnDsl.Kernels.Cpu.BinaryPadding.{layer.Padding}")),
            LayerKind.QConvolution => (ns + "Conv2dLayer", Invariant($"{head}, {spatial}, {layer.Units}, {layer.Kernel}, {layer.Stride}, {layer.Pad}, bias: false")),
            LayerKind.FullyConnected => (ns + "DenseLayer", Invariant($"{head}, {input.Elements}, {layer.Units}")),
            LayerKind.QFullyConnected when binary => (ns + "BinaryDenseLayer", Invariant($"{head}, {input.Elements}, {layer.Units}")),
            LayerKind.QFullyConnected => (ns + "DenseLayer", Invariant($"{head}, {input.Elements}, {layer.Units}, bias: false")),
            LayerKind.BatchNorm => (ns + "BatchNormLayer", Invariant($"{head}, {input.Height * input.Width}, {input.Channels}")),
            LayerKind.MaxPool => (ns + "MaxPoolLayer", Invariant($"{head}, {spatial}, {layer.Kernel}, {layer.Stride}")),
            LayerKind.AvgPool => (ns + "AvgPoolLayer", Invariant($"{head}, {spatial}, {layer.Kernel}, {layer.Stride}")),
            LayerKind.GlobalAvgPool => (ns + "GlobalAvgPoolLayer", Invariant($"{head}, {spatial}")),
            LayerKind.QActivation => (ns + "SignLayer", Invariant($"{head}, {input.Elements}")),
            LayerKind.ReLU => (ns + "ReLULayer", Invariant($"{head}, {input.Elements}")),
            _ => (null, ""),
        };
    }

    private static string Invariant(System.FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
