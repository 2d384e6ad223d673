// The name of every layer of a network, shared by generated code, checkpoints, the converter and the tools.
using System.Collections.Generic;
using System.Globalization;

namespace BnnDsl;

/// <summary>
/// Layers are named by kind and count in declaration order — <c>conv1</c>, <c>bn1</c>, <c>maxpool1</c>, <c>qact1</c>,
/// <c>qconv1</c>, <c>bn2</c>, … — and their parameters <c>{layer}.weight</c>, <c>.bias</c>, <c>.gamma</c>,
/// <c>.beta</c>, <c>.running_mean</c>, <c>.running_var</c>. These names are the keys of checkpoints and packed
/// models, so they are defined once, here.
/// </summary>
public static class LayerNames
{
    /// <summary>The name stem of a layer kind (<c>conv</c>, <c>qconv</c>, <c>fc</c>, …).</summary>
    public static string Stem(LayerKind kind) => kind switch
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
        LayerKind.Residual => "residual",
        LayerKind.Shortcut => "shortcut",
        LayerKind.EndResidual => "add",
        _ => "loss",
    };

    /// <summary>The names of <paramref name="network"/>'s layers, in order.</summary>
    public static IReadOnlyList<string> Of(NetworkSpec network)
    {
        var counters = new Dictionary<string, int>();
        var names = new string[network.Layers.Count];
        for (int i = 0; i < names.Length; i++)
        {
            string stem = Stem(network.Layers[i].Kind);
            counters.TryGetValue(stem, out int n);
            counters[stem] = ++n;
            names[i] = stem + n.ToString(CultureInfo.InvariantCulture);
        }
        return names;
    }
}
