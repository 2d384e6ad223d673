// Small packed models for the device tests, converted from random networks (the shapes of LeNet, a residual network and
// a 2-bit network in miniature, declared in TestNetworks.cs), and the device they run on.
using BnnDsl.Deployment;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Runtime.Gpu.Tests;

internal static class TestModels
{
    /// <summary>The device the tests run on (<see cref="DeviceTestData.Device"/>).</summary>
    public static ComputeDevice Device => DeviceTestData.Device;

    /// <summary>The packed <see cref="TinyLeNet"/>.</summary>
    public static PackedModel LeNet { get; } = Convert(TinyLeNet.Spec, 3);

    /// <summary>The packed <see cref="TinyResNet"/>.</summary>
    public static PackedModel Residual { get; } = Convert(TinyResNet.Spec, 5);

    /// <summary>The packed <see cref="TinyTwoBit"/>.</summary>
    public static PackedModel TwoBit { get; } = Convert(TinyTwoBit.Spec, 7);

    /// <summary>Uniform floats in [-0.5, 1.5): both signs, and both sides of the quantizers' clip range.</summary>
    public static float[] RandomInput(int count, int length, int seed)
    {
        var rng = new Random(seed);
        var input = new float[count * length];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(rng.NextDouble() * 2 - 0.5);
        return input;
    }

    /// <summary>
    /// Initializes <paramref name="spec"/>'s network from <paramref name="seed"/> with BatchNorm statistics of both
    /// signs on the scale of each BatchNorm's input (gamma 0 on every seventh channel), and converts it.
    /// </summary>
    private static PackedModel Convert(NetworkSpec spec, int seed)
    {
        var network = new SpecNetwork(spec, 1);
        network.Initialize(seed);
        var rng = new Random(seed * 7 + 1);
        var names = ModelPlanner.LayerNames(spec);
        for (int i = 0; i < names.Count; i++)
        {
            var layer = spec.Layers[i];
            if (layer.Kind != LayerKind.BatchNorm)
                continue;
            var previous = spec.Layers[i - 1];
            double patch = previous.Kind == LayerKind.QConvolution ? previous.Kernel * previous.Kernel * previous.InputShape.Channels : previous.InputShape.Elements;
            double spread = previous.WeightBits switch
            {
                1 => Math.Sqrt(patch),
                > 1 and < 32 => 0.3 * Math.Sqrt(patch),
                _ => 0.5,
            };
            var gamma = network.Parameter($"{names[i]}.gamma").Value;
            var beta = network.Parameter($"{names[i]}.beta").Value;
            var mean = network.Parameter($"{names[i]}.running_mean").Value;
            var variance = network.Parameter($"{names[i]}.running_var").Value;
            for (int c = 0; c < gamma.Length; c++)
            {
                gamma[c] = c % 7 == 3 ? 0f : (float)(rng.NextDouble() * 3 - 1.5);
                beta[c] = (float)(rng.NextDouble() - 0.5);
                mean[c] = (float)((rng.NextDouble() * 2 - 1) * spread);
                variance[c] = (float)((rng.NextDouble() * 1.5 + 0.3) * spread * spread);
            }
        }
        return ModelConverter.Convert(spec, parameter => network.Parameter(parameter).Value);
    }
}
