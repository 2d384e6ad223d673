// Counts a network's parameters by bit width, packed memory and MACs by precision, and renders them as a table.
using System.Globalization;
using System.Text;

namespace BnnDsl.Runtime;

/// <summary>
/// Sizes and costs of a network. Convolutions have Filters x InputChannels x Kernel² weights, fully connected layers
/// Units x InputFeatures; float layers also have one float32 bias per output, quantized layers none (the BatchNorm that
/// follows them supplies the shift). BatchNorm stores gamma, beta, running mean and running variance in float32.
/// Weights take <c>WeightBits</c> bits each, packed; MACs are counted per sample and grouped by the
/// (weight bits, activation bits) of the layer that performs them. The residual block markers have no parameters and
/// count no MACs (the add of a block is one float add per output value, not a multiply-accumulate); the table shows
/// them as "residual", "+ shortcut" and "add" and indents the layers of each block. Quantize-dequantize layers
/// (9..31 bits, mixed widths; <see cref="LayerSummary.RunsInFloat"/>) are marked <c>*</c> in the bits column, with a
/// note under the table that they run in float32.
/// </summary>
public sealed class NetworkSummary
{
    private const int FloatBits = 32;

    private NetworkSummary(NetworkSpec network, List<LayerSummary> layers,
        SortedDictionary<int, long> parametersByBits, SortedDictionary<(int WeightBits, int ActivationBits), long> macsByPrecision)
    {
        Network = network;
        Layers = layers;
        ParametersByBits = parametersByBits;
        MacsByPrecision = macsByPrecision;
    }

    /// <summary>Summarizes <paramref name="spec"/>, inferring its shapes first; throws <see cref="InvalidNetworkException"/> if it is invalid.</summary>
    public static NetworkSummary Create(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var network = ShapeInference.Infer(spec).GetNetworkOrThrow();
        var layers = new List<LayerSummary>(network.Layers.Count);
        var parametersByBits = new SortedDictionary<int, long>();
        var macsByPrecision = new SortedDictionary<(int, int), long>();
        for (int i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            var (weights, biases, macs) = Count(layer);
            long bytes = PackedBytes(weights, layer.WeightBits) + PackedBytes(biases, FloatBits);
            Add(parametersByBits, layer.WeightBits, weights);
            Add(parametersByBits, FloatBits, biases);
            Add(macsByPrecision, (layer.WeightBits, layer.ActivationBits), macs);
            layers.Add(new LayerSummary(i + 1, layer.Kind, layer.OutputShape, layer.WeightBits, layer.ActivationBits,
                weights + biases, bytes, macs));
        }
        return new NetworkSummary(network, layers, parametersByBits, macsByPrecision);
    }

    /// <summary>The summarized network, shapes inferred.</summary>
    public NetworkSpec Network { get; }

    /// <summary>One row per layer, in order.</summary>
    public IReadOnlyList<LayerSummary> Layers { get; }

    /// <summary>Stored values per bit width, narrowest first.</summary>
    public IReadOnlyDictionary<int, long> ParametersByBits { get; }

    /// <summary>Multiply-accumulates per sample by (weight bits, activation bits).</summary>
    public IReadOnlyDictionary<(int WeightBits, int ActivationBits), long> MacsByPrecision { get; }

    /// <summary>Every stored value.</summary>
    public long Parameters => Layers.Sum(l => l.Parameters);

    /// <summary>Bytes of the model with every value packed at its bit width.</summary>
    public long ModelBytes => Layers.Sum(l => l.Bytes);

    /// <summary>Bytes of the same model with every value in float32.</summary>
    public long FloatEquivalentBytes => Parameters * sizeof(float);

    /// <summary><see cref="FloatEquivalentBytes"/> / <see cref="ModelBytes"/>.</summary>
    public double CompressionRatio => ModelBytes == 0 ? 1 : (double)FloatEquivalentBytes / ModelBytes;

    /// <summary>Multiply-accumulates per sample.</summary>
    public long Macs => Layers.Sum(l => l.Macs);

    /// <summary>Multiply-accumulates with 1-bit weights and 1-bit activations (XNOR + popcount).</summary>
    public long BinarizedMacs => MacsByPrecision.TryGetValue((1, 1), out long macs) ? macs : 0;

    /// <summary><see cref="BinarizedMacs"/> / <see cref="Macs"/>, between 0 and 1.</summary>
    public double BinarizedMacShare => Macs == 0 ? 0 : (double)BinarizedMacs / Macs;

    /// <summary>A fixed-width text table of the layers followed by the totals.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        Line($"{Network.Name}: input {Network.Input}, output {Network.Output}");
        Line($"{"#",3}  {"layer",-20} {"output",-12} {"bits",6} {"parameters",12} {"bytes",10} {"MACs",14}");
        int depth = 0;
        foreach (var l in Layers)
        {
            if (l.Kind == LayerKind.EndResidual)
                depth--;
            Line($"{l.Number,3}  {Label(l.Kind, depth),-20} {l.OutputShape,-12} {l.Bits,6} {l.Parameters,12:N0} {l.Bytes,10:N0} {l.Macs,14:N0}");
            if (l.Kind == LayerKind.Residual)
                depth++;
        }
        Line($"Parameters: {Parameters:N0} ({string.Join(", ", ParametersByBits.Select(p => $"{p.Key}-bit: {p.Value:N0}"))})");
        Line($"Model size: {ModelBytes:N0} bytes packed, {FloatEquivalentBytes:N0} bytes as float32 (compression {CompressionRatio:F2}x)");
        Line($"MACs: {Macs:N0} ({string.Join(", ", MacsByPrecision.Where(m => m.Value > 0).Select(m => $"w{m.Key.WeightBits}a{m.Key.ActivationBits}: {m.Value:N0}"))}); binarized: {BinarizedMacShare:P2}");
        if (Layers.Any(l => l.RunsInFloat))
            Line($"* quantize-dequantize: values of these bit widths, computed in float32 (no speed gain over 32-bit)");
        return text.ToString();

        void Line(FormattableString line) => text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    // Layers inside a residual block are indented two spaces per level; the block markers read "residual",
    // "+ shortcut" (at the level of the block's own marker) and "add".
    private static string Label(LayerKind kind, int depth) => kind switch
    {
        LayerKind.Residual => new string(' ', 2 * depth) + "residual",
        LayerKind.Shortcut => new string(' ', 2 * (depth - 1)) + "+ shortcut",
        LayerKind.EndResidual => new string(' ', 2 * depth) + "add",
        _ => new string(' ', 2 * depth) + kind,
    };

    private static (long Weights, long Biases, long Macs) Count(LayerSpec layer)
    {
        var input = layer.InputShape;
        var output = layer.OutputShape;
        long bias = layer.Kind is LayerKind.Convolution or LayerKind.FullyConnected ? layer.Units : 0;
        switch (layer.Kind)
        {
            case LayerKind.QConvolution or LayerKind.Convolution:
                long perOutput = (long)input.Channels * layer.Kernel * layer.Kernel;
                return (layer.Units * perOutput, bias, output.Elements * perOutput);
            case LayerKind.QFullyConnected or LayerKind.FullyConnected:
                return (layer.Units * input.Elements, bias, layer.Units * input.Elements);
            case LayerKind.BatchNorm:
                return (4L * input.Channels, 0, 0);
            default:
                return (0, 0, 0);
        }
    }

    private static long PackedBytes(long count, int bits) => (count * bits + 7) / 8;

    private static void Add<TKey>(SortedDictionary<TKey, long> totals, TKey key, long count) where TKey : notnull
    {
        if (count == 0)
            return;
        totals[key] = totals.GetValueOrDefault(key) + count;
    }
}
