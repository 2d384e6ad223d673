// The .bnn name and options of each layer; layers are built through their attribute classes, so defaults have one source.
using System;
using System.Collections.Generic;
using System.Linq;

namespace BnnDsl;

/// <summary>What an option's value must be.</summary>
internal enum OptionType
{
    /// <summary>A decimal integer, optionally signed.</summary>
    Integer,
    /// <summary><c>one</c> or <c>zero</c> (<see cref="BnnDsl.Padding"/>).</summary>
    Padding,
}

/// <summary>One option of a layer: its name, the other names it accepts, its value type and whether it must be given.</summary>
internal sealed record OptionSyntax(string Name, OptionType Type, bool Required = false, params string[] Aliases)
{
    /// <summary>True when <paramref name="key"/> names this option.</summary>
    public bool Accepts(string key) => key == Name || Aliases.Contains(key);

    /// <summary>What a valid value looks like, for messages.</summary>
    public string Expected => Type == OptionType.Padding ? "one or zero" : "an integer";

    /// <summary>Reads <paramref name="text"/> as this option's value.</summary>
    public bool TryParse(string text, out int value)
    {
        if (Type == OptionType.Padding)
        {
            bool one = string.Equals(text, "one", StringComparison.OrdinalIgnoreCase);
            bool zero = string.Equals(text, "zero", StringComparison.OrdinalIgnoreCase);
            value = (int)(zero ? BnnDsl.Padding.Zero : BnnDsl.Padding.One);
            return one || zero;
        }
        return int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>A layer of the text form: its kind (whose name is the layer's name), options, and how to build it from their values.</summary>
internal sealed class LayerSyntax(LayerKind kind, Func<IReadOnlyDictionary<string, int>, LayerAttribute> create, params OptionSyntax[] options)
{
    public LayerKind Kind { get; } = kind;

    public string Name => Kind.ToString();

    public IReadOnlyList<OptionSyntax> Options { get; } = options;

    /// <summary>The option <paramref name="key"/> names, or null.</summary>
    public OptionSyntax? Find(string key) => Options.FirstOrDefault(o => o.Accepts(key));

    /// <summary>The options for messages: <c>filters, kernel, stride</c>, aliases in parentheses.</summary>
    public string OptionList => Options.Count == 0
        ? "none (it takes no options)"
        : string.Join(", ", Options.Select(o => o.Aliases.Length == 0 ? o.Name : $"{o.Name} (or {string.Join(", ", o.Aliases)})"));

    /// <summary>The layer with the given option values (keyed by canonical name); absent options keep the attribute's default.</summary>
    public LayerSpec Build(IReadOnlyDictionary<string, int> values, SourceLocation location) => create(values).ToLayerSpec(location);

    /// <summary>Every layer, by name (case-sensitive, as the attribute classes are named).</summary>
    public static IReadOnlyDictionary<string, LayerSyntax> All { get; } = new LayerSyntax[]
    {
        new(LayerKind.QConvolution, v =>
            {
                var layer = new QConvolutionAttribute(v["filters"], v["kernel"]);
                if (v.TryGetValue("stride", out int stride)) layer.Stride = stride;
                if (v.TryGetValue("pad", out int pad)) layer.Pad = pad;
                if (v.TryGetValue("padding", out int padding)) layer.Padding = (Padding)padding;
                if (v.TryGetValue("weight_bits", out int weightBits)) layer.WeightBits = weightBits;
                if (v.TryGetValue("act_bits", out int actBits)) layer.ActBits = actBits;
                return layer;
            },
            Filters, Kernel, Stride, Pad, new("padding", OptionType.Padding), WeightBits, ActBits),
        new(LayerKind.QFullyConnected, v =>
            {
                var layer = new QFullyConnectedAttribute(v["units"]);
                if (v.TryGetValue("weight_bits", out int weightBits)) layer.WeightBits = weightBits;
                if (v.TryGetValue("act_bits", out int actBits)) layer.ActBits = actBits;
                return layer;
            },
            Units, WeightBits, ActBits),
        new(LayerKind.QActivation,
            v => v.TryGetValue("bits", out int bits) ? new QActivationAttribute(bits) : new QActivationAttribute(),
            new OptionSyntax("bits", OptionType.Integer, false, "act_bits", "act_bit")),
        new(LayerKind.Convolution, v =>
            {
                var layer = new ConvolutionAttribute(v["filters"], v["kernel"]);
                if (v.TryGetValue("stride", out int stride)) layer.Stride = stride;
                if (v.TryGetValue("pad", out int pad)) layer.Pad = pad;
                return layer;
            },
            Filters, Kernel, Stride, Pad),
        new(LayerKind.FullyConnected, v => new FullyConnectedAttribute(v["units"]), Units),
        new(LayerKind.BatchNorm, _ => new BatchNormAttribute()),
        new(LayerKind.MaxPool,
            v => v.TryGetValue("stride", out int stride) ? new MaxPoolAttribute(v["size"], stride) : new MaxPoolAttribute(v["size"]),
            Size, Stride),
        new(LayerKind.AvgPool,
            v => v.TryGetValue("stride", out int stride) ? new AvgPoolAttribute(v["size"], stride) : new AvgPoolAttribute(v["size"]),
            Size, Stride),
        new(LayerKind.GlobalAvgPool, _ => new GlobalAvgPoolAttribute()),
        new(LayerKind.Flatten, _ => new FlattenAttribute()),
        new(LayerKind.ReLU, _ => new ReLUAttribute()),
        new(LayerKind.SoftmaxCrossEntropy, _ => new SoftmaxCrossEntropyAttribute()),
    }.ToDictionary(l => l.Name, StringComparer.Ordinal);

    private static OptionSyntax Filters => new("filters", OptionType.Integer, Required: true);
    private static OptionSyntax Kernel => new("kernel", OptionType.Integer, Required: true);
    private static OptionSyntax Units => new("units", OptionType.Integer, Required: true);
    private static OptionSyntax Size => new("size", OptionType.Integer, Required: true);
    private static OptionSyntax Stride => new("stride", OptionType.Integer);
    private static OptionSyntax Pad => new("pad", OptionType.Integer);
    private static OptionSyntax WeightBits => new("weight_bits", OptionType.Integer, false, "weight_bit");
    private static OptionSyntax ActBits => new("act_bits", OptionType.Integer, false, "act_bit");

    /// <summary>
    /// The known layer name closest to <paramref name="name"/>, ignoring case: the shortest one it abbreviates
    /// (<c>QConv</c>), else the one at the smallest edit distance.
    /// </summary>
    public static string Closest(string name) =>
        All.Keys.Where(known => known.StartsWith(name, StringComparison.OrdinalIgnoreCase)).OrderBy(k => k.Length).FirstOrDefault()
        ?? All.Keys.OrderBy(known => EditDistance(name.ToLowerInvariant(), known.ToLowerInvariant())).ThenBy(k => k, StringComparer.Ordinal).First();

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
