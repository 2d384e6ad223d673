// Small packed models for the device tests, converted from random spec-built networks (the shapes of LeNet, a residual
// network and a 2-bit network in miniature), and the device they run on.
using BnnDsl.Deployment;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Runtime.Gpu.Tests;

internal static class TestModels
{
    private static readonly Lazy<ComputeDevice> IlgpuCpu = new(() => ComputeDevice.Open(ComputeDeviceKind.IlgpuCpu));

    /// <summary>ILGPU's CPU accelerator, opened once for every test (its kernels compile once).</summary>
    public static ComputeDevice Device => IlgpuCpu.Value;

    /// <summary>Float stem with BatchNorm, pool and sign; a binary conv with a packed max pool; repack; binary dense; float dense on bits.</summary>
    public static PackedModel LeNet { get; } = Convert("TinyLeNet", TensorShape.Image(1, 12, 12), 3,
    [
        new ConvolutionAttribute(8, 3), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new QActivationAttribute(1), new MaxPoolAttribute(2),
        new FlattenAttribute(), new QFullyConnectedAttribute(32), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute(),
    ]);

    /// <summary>
    /// Residual blocks (one-padded and zero-padded binary convs with float outputs, a float 1x1 shortcut after an average
    /// pool), then ReLU, a float max pool, global average pooling, a lone BatchNorm (affine) and a float dense layer.
    /// </summary>
    public static PackedModel Residual { get; } = Convert("TinyResNet", TensorShape.Image(3, 8, 8), 5,
    [
        new ConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(24, 3) { Stride = 2, Pad = 1, Padding = Padding.Zero }, new BatchNormAttribute(),
        new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(24, 1), new BatchNormAttribute(), new EndResidualAttribute(),
        new ReLUAttribute(), new MaxPoolAttribute(2), new GlobalAvgPoolAttribute(), new BatchNormAttribute(), new FullyConnectedAttribute(3),
        new SoftmaxCrossEntropyAttribute(),
    ]);

    /// <summary>A 2-bit residual block (bit-serial conv), a 2-bit quantizer, a 2-bit dense layer with its BatchNorm, a float dense layer.</summary>
    public static PackedModel TwoBit { get; } = Convert("TinyTwoBit", TensorShape.Image(3, 8, 8), 7,
    [
        new ConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(),
        new ResidualAttribute(), new QActivationAttribute(2), new QConvolutionAttribute(16, 3) { Pad = 1, WeightBits = 2, ActBits = 2 },
        new BatchNormAttribute(), new EndResidualAttribute(),
        new QActivationAttribute(2), new GlobalAvgPoolAttribute(), new QFullyConnectedAttribute(8) { WeightBits = 2, ActBits = 2 }, new BatchNormAttribute(),
        new FullyConnectedAttribute(3), new SoftmaxCrossEntropyAttribute(),
    ]);

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
    /// Infers <paramref name="layers"/>' shapes, initializes the network from <paramref name="seed"/> with BatchNorm
    /// statistics of both signs on the scale of each BatchNorm's input (gamma 0 on every seventh channel), and converts it.
    /// </summary>
    private static PackedModel Convert(string name, TensorShape input, int seed, LayerAttribute[] layers)
    {
        var spec = ShapeInference.Infer(new NetworkSpec(name, input, new EquatableArray<LayerSpec>(layers.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();
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
