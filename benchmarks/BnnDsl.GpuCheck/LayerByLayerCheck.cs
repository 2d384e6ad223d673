// Validates a device network's forward pass against the host layers one layer at a time: each host layer runs on the
// device's input to that layer, so a rounding difference upstream cannot flip a sign and cascade through the binary
// layers (it does end to end: the first H100 run, 2026-11-26, saw device loss 3.2001 against host 3.1958 on LeNet).
using System.Globalization;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.GpuCheck;

internal static class LayerByLayerCheck
{
    /// <summary>Float layers (SGEMM, BatchNorm's batch statistics): per value, |device − host| ≤ this × (1 + |host|).</summary>
    public const double FloatTolerance = 1e-3;

    /// <summary>
    /// Layers that count or compare (1-bit QActivation, 1-bit QConvolution / QFullyConnected, MaxPool): per value
    /// |device − host| ≤ this × (1 + |host|), so integer counts up to 50,000 must be equal.
    /// </summary>
    public const double ExactTolerance = 1e-5;

    /// <summary>
    /// Runs one <see cref="DeviceNetwork.ForwardBackward"/> on <paramref name="input"/> and <paramref name="labels"/>
    /// (the device holds the host's parameters, uploaded), then for every layer in forward order runs the host layer
    /// (training mode) on the device's input to it and compares the outputs, and recomputes the softmax cross-entropy
    /// of the device's logits in double precision against the loss the device reported (relative 1e-4). Also counts,
    /// for information, how many 1-bit activations differ when the host runs the whole network on its own.
    /// Returns the check line; throws <see cref="InvalidDataException"/> naming the first layer out of tolerance.
    /// Chains only (no residual blocks): layer <c>i</c> reads layer <c>i − 1</c>'s output.
    /// </summary>
    public static string Run(NetworkSpec spec, SpecNetwork host, DeviceNetwork device, float[] input, int[] labels)
    {
        if (spec.Layers.Any(l => l.Kind is LayerKind.Residual or LayerKind.Shortcut or LayerKind.EndResidual))
            throw new NotSupportedException($"{spec.Name}: the layer-by-layer check handles chains of layers; this network has residual blocks.");
        var names = device.LayerNames;
        if (names.Count != host.Layers.Count || !names.SequenceEqual(host.Layers.Select(l => l.Name)))
            throw new InvalidDataException($"{spec.Name}: device layers ({string.Join(", ", names)}) are not the host's ({string.Join(", ", host.Layers.Select(l => l.Name))}).");
        var specOf = new Dictionary<string, LayerSpec>(StringComparer.Ordinal);
        var planned = ModelPlanner.LayerNames(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
            specOf[planned[i]] = spec.Layers[i];

        float deviceLoss = device.ForwardBackward(input, labels).Loss;
        var deviceOutputs = new float[names.Count][];
        for (int i = 0; i < names.Count; i++)
        {
            deviceOutputs[i] = new float[host.Layers[i].OutputLength];
            device.CopyLayerOutput(i, deviceOutputs[i]);
        }

        var report = new List<string>();
        for (int i = 0; i < names.Count; i++)
        {
            var layer = host.Layers[i];
            var expected = new float[layer.OutputLength];
            layer.Forward(i == 0 ? input : deviceOutputs[i - 1], expected, training: true);
            bool exact = IsExact(specOf[layer.Name]);
            double tolerance = exact ? ExactTolerance : FloatTolerance, worst = 0;
            int worstAt = -1;
            for (int j = 0; j < expected.Length; j++)
            {
                double error = Math.Abs((double)deviceOutputs[i][j] - expected[j]) / (1 + Math.Abs(expected[j]));
                if (!(error <= worst))
                {
                    worst = error;
                    worstAt = j;
                }
            }
            if (!(worst <= tolerance))
                throw new InvalidDataException(
                    $"{spec.Name} training forward, layer {layer.Name} on the device's own input: value {worstAt} is {deviceOutputs[i][worstAt]} on the device but {expected[worstAt]} on the host (relative error {worst:G3}, tolerance {tolerance:G1}).");
            report.Add(exact && worst == 0 ? $"{layer.Name} =" : string.Create(CultureInfo.InvariantCulture, $"{layer.Name} {worst:G2}"));
        }

        double referenceLoss = CrossEntropy(deviceOutputs[^1], labels);
        if (!(Math.Abs(deviceLoss - referenceLoss) <= 1e-4 * Math.Max(1, Math.Abs(referenceLoss))))
            throw new InvalidDataException($"{spec.Name} training loss: the device reported {deviceLoss} but its logits give {referenceLoss:G7}.");

        // End to end, for information: the host's own forward pass, and how many 1-bit activations differ from the device's.
        host.Forward(input, training: true);
        float hostLoss = host.Loss(labels);
        var flips = new List<string>();
        for (int i = 0; i < names.Count; i++)
        {
            if (specOf[names[i]] is not { Kind: LayerKind.QActivation, ActivationBits: 1 })
                continue;
            var own = host.LayerOutput(i);
            int differing = 0;
            for (int j = 0; j < own.Length; j++)
                differing += own[j] != deviceOutputs[i][j] ? 1 : 0;
            flips.Add(string.Create(CultureInfo.InvariantCulture, $"{names[i]} {differing:N0} of {own.Length:N0}"));
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"check {spec.Name} training forward layer by layer on the device's own inputs ({string.Join(", ", report)}; loss {deviceLoss:F4} = {referenceLoss:F4} from the device's logits): ok\n"
            + $"  end to end (each side on its own values): device loss {deviceLoss:F4}, host {hostLoss:F4}; 1-bit activations differing: {string.Join(", ", flips)}");
    }

    /// <summary>Whether a layer's outputs are counts or comparisons that equal inputs must reproduce exactly.</summary>
    private static bool IsExact(LayerSpec layer) => layer switch
    {
        { Kind: LayerKind.QActivation, ActivationBits: 1 } => true,
        { Kind: LayerKind.QConvolution or LayerKind.QFullyConnected, WeightBits: 1 } => true,
        { Kind: LayerKind.MaxPool } => true,
        _ => false,
    };

    /// <summary>Mean softmax cross-entropy of <paramref name="logits"/> (batch × classes) against <paramref name="labels"/>, in double.</summary>
    internal static double CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        int classes = logits.Length / labels.Length;
        double total = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            var row = logits.Slice(n * classes, classes);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float value in row)
                max = Math.Max(max, value);
            foreach (float value in row)
                sum += Math.Exp(value - max);
            total += Math.Log(sum) + max - row[labels[n]];
        }
        return total / labels.Length;
    }
}
