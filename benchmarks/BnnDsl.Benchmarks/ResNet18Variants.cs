// ResNet-18 CIFAR (examples/ResNet18/resnet18.bnn) at 1, 2 or 4 bits, and random parameters for any network spec.
using System.Text.RegularExpressions;

namespace BnnDsl.Benchmarks;

/// <summary>
/// The ResNet-18 of <c>examples/ResNet18/resnet18.bnn</c> (embedded) with its quantized layers at another width:
/// for k bits every <c>QActivation bits=1</c> becomes <c>bits=k</c> and every <c>QConvolution</c> gets
/// <c>weight_bits=k act_bits=k</c>, a plain text rewrite of the stage lines (the stem, the shortcut projections
/// and the classifier stay float). Parameters are random: speed does not depend on their values.
/// </summary>
public static partial class ResNet18Variants
{
    /// <summary>The network with its binary layers at <paramref name="bits"/> (1, or 2..8) bits, shapes inferred.</summary>
    public static NetworkSpec Spec(int bits)
    {
        if (bits is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "ResNet-18 variants take 1..8 bits.");
        using var stream = typeof(ResNet18Variants).Assembly.GetManifestResourceStream("resnet18.bnn")
            ?? throw new InvalidOperationException("The benchmarks assembly lacks its embedded resnet18.bnn; build it from the repository.");
        string text = new StreamReader(stream).ReadToEnd();
        if (bits > 1)
        {
            text = text.Replace("QActivation bits=1", $"QActivation bits={bits}", StringComparison.Ordinal);
            text = QConvolution().Replace(text, match => $"{match.Value} weight_bits={bits} act_bits={bits}");
        }
        var (network, diagnostics) = BnnTextParser.Parse(text, "resnet18.bnn");
        return network is not null && diagnostics.Count == 0
            ? network
            : throw new InvalidOperationException($"resnet18.bnn at {bits} bits does not parse: {string.Join("; ", diagnostics)}");
    }

    /// <summary>
    /// Uniform random values for every parameter of <paramref name="spec"/> by name (<c>conv1.weight</c>, …):
    /// weights in [-1, 1], BatchNorm gamma in [0.5, 1.5], beta and running mean in [-0.5, 0.5], running variance in [0.5, 1.5].
    /// </summary>
    public static Dictionary<string, float[]> RandomParameters(NetworkSpec spec, int seed)
    {
        var rng = new Random(seed);
        var names = LayerNames.Of(spec);
        var parameters = new Dictionary<string, float[]>(StringComparer.Ordinal);
        void Add(string name, long length, float low, float high)
        {
            var values = new float[length];
            for (int i = 0; i < values.Length; i++)
                values[i] = low + (high - low) * rng.NextSingle();
            parameters[name] = values;
        }
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            string name = names[i];
            long inputs = layer.InputShape.Elements, channels = layer.InputShape.Channels;
            switch (layer.Kind)
            {
                case LayerKind.Convolution or LayerKind.QConvolution:
                    Add($"{name}.weight", layer.Units * layer.Kernel * layer.Kernel * channels, -1f, 1f);
                    if (layer.Kind == LayerKind.Convolution)
                        Add($"{name}.bias", layer.Units, -0.1f, 0.1f);
                    break;
                case LayerKind.FullyConnected or LayerKind.QFullyConnected:
                    Add($"{name}.weight", layer.Units * inputs, -1f, 1f);
                    if (layer.Kind == LayerKind.FullyConnected)
                        Add($"{name}.bias", layer.Units, -0.1f, 0.1f);
                    break;
                case LayerKind.BatchNorm:
                    Add($"{name}.gamma", channels, 0.5f, 1.5f);
                    Add($"{name}.beta", channels, -0.5f, 0.5f);
                    Add($"{name}.running_mean", channels, -0.5f, 0.5f);
                    Add($"{name}.running_var", channels, 0.5f, 1.5f);
                    break;
            }
        }
        return parameters;
    }

    [GeneratedRegex(@"QConvolution [^;#\r\n]*?(?=\s*(;|#|$))", RegexOptions.Multiline)]
    private static partial Regex QConvolution();
}
