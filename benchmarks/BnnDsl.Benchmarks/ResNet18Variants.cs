// ResNet-18 CIFAR (examples/ResNet18/resnet18.bnn) at 1, 2 or 4 bits, and random parameters for any network spec.
namespace BnnDsl.Benchmarks;

/// <summary>
/// The ResNet-18 of <c>examples/ResNet18/resnet18.bnn</c> (embedded) with its stage convolutions at another width,
/// through the file's <c>bits</c> setting (the stem, the shortcut projections and the classifier stay float).
/// Parameters are random: speed does not depend on their values.
/// </summary>
public static class ResNet18Variants
{
    /// <summary>The default (CIFAR) network with <c>bits</c> set to <paramref name="bits"/> (1, or 2..8), shapes inferred.</summary>
    public static NetworkSpec Spec(int bits)
    {
        if (bits is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "ResNet-18 variants take 1..8 bits.");
        using var stream = typeof(ResNet18Variants).Assembly.GetManifestResourceStream("resnet18.bnn")
            ?? throw new InvalidOperationException("The benchmarks assembly lacks its embedded resnet18.bnn; build it from the repository.");
        string text = new StreamReader(stream).ReadToEnd();
        var overrides = new Dictionary<string, string> { ["bits"] = bits.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        return BnnText.Parse(text, "resnet18.bnn", overrides).GetNetworkOrThrow();
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
}
