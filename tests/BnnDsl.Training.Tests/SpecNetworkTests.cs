// SpecNetwork (the network built from a spec at run time) against the generated classes: same parameters, same
// outputs bit for bit, checkpoints interchangeable; and what it refuses.
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Training.Tests;

public sealed class SpecNetworkTests
{
    public static TheoryData<string> Networks() => ["TinyNet", "GradientLeNet", "MixedNet", "TwoBitLeNet", "WideBitNet", "MixedWidthNet"];

    public static TheoryData<string> TrainedNetworks() => ["TinyNet", "GradientLeNet", "MixedNet", "TwoBitLeNet", "WideBitNet", "MixedWidthNet",
        "SmallResNet", "CornerResNet", "BinaryShortcutResNet"];

    private static Network Generated(string name, int batch) => name switch
    {
        "TinyNet" => new TinyNet(batch),
        "GradientLeNet" => new GradientLeNet(batch),
        "TwoBitLeNet" => new TwoBitLeNet(batch),
        "WideBitNet" => new WideBitNet(batch),
        "MixedWidthNet" => new MixedWidthNet(batch),
        "SmallResNet" => new SmallResNet(batch),
        "CornerResNet" => new CornerResNet(batch),
        "BinaryShortcutResNet" => new BinaryShortcutResNet(batch),
        _ => new MixedNet(batch),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void MatchesTheGeneratedNetworkBitForBit(string name)
    {
        const int batch = 6;
        var generated = Generated(name, batch);
        generated.Initialize(17);
        var rng = new Random(3);
        foreach (var parameter in generated.Parameters.Where(p => p.Name.EndsWith("running_mean", StringComparison.Ordinal) || p.Name.EndsWith("beta", StringComparison.Ordinal)))
            for (int i = 0; i < parameter.Value.Length; i++)
                parameter.Value[i] = (float)(rng.NextDouble() - 0.5);
        var spec = new SpecNetwork(generated.Definition, batch);
        Assert.Equal(generated.Parameters.Select(p => (p.Name, string.Join(",", p.Shape))), spec.Parameters.Select(p => (p.Name, string.Join(",", p.Shape))));
        Assert.Equal(generated.Layers.Select(l => (l.GetType(), l.Name)), spec.Layers.Select(l => (l.GetType(), l.Name)));
        Assert.Equal(generated.OutputLength, spec.OutputLength);

        var directory = Directory.CreateTempSubdirectory("specnet");
        try
        {
            string checkpoint = Path.Combine(directory.FullName, "net.safetensors");
            generated.Save(checkpoint);
            spec.Load(checkpoint);
            var input = new float[batch * generated.InputLength];
            for (int i = 0; i < input.Length; i++)
                input[i] = (float)(rng.NextDouble() * 3 - 1);
            generated.Forward(input, training: false);
            spec.Forward(input, training: false);
            Assert.Equal(generated.Output.ToArray(), spec.Output.ToArray());
            Assert.Equal(input, spec.LayerOutput("input").ToArray());
            var names = ModelPlanner.LayerNames(generated.Definition);
            Assert.Equal(spec.Output.ToArray(), spec.LayerOutput(names[^2]).ToArray());

            // training mode (batch statistics) too
            generated.Forward(input, training: true);
            spec.Forward(input, training: true);
            Assert.Equal(generated.Output.ToArray(), spec.Output.ToArray());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TrainedNetworks))]
    public void BackPropagatesAsTheGeneratedNetworkBitForBit(string name)
    {
        const int batch = 4;
        var generated = Generated(name, batch);
        generated.Initialize(23);
        var spec = new SpecNetwork(generated.Definition, batch);
        foreach (var (from, to) in generated.Parameters.Zip(spec.Parameters))
            from.Value.CopyTo(to.Value, 0);
        var rng = new Random(8);
        var input = new float[batch * generated.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(rng.NextDouble() * 3 - 1);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(generated.OutputLength)).ToArray();
        foreach (var network in new[] { generated, spec })
        {
            network.Forward(input, training: true);
            network.Loss(labels);
            network.Backward(input);
        }
        Assert.True(spec.HasLoss);
        foreach (var (expected, actual) in generated.Parameters.Zip(spec.Parameters).Where(p => p.First.Trainable))
            Assert.Equal(expected.Gradient, actual.Gradient);
    }

    [Fact]
    public void RefusesWideQuantizedLayersAndUnknownLayerNames()
    {
        Assert.NotNull(new SpecNetwork(SmallResNet.Spec, 1));
        var wide = SmallResNet.Spec with
        {
            Layers = new EquatableArray<LayerSpec>(SmallResNet.Spec.Layers.Select(l => l.Kind == LayerKind.QActivation ? l with { ActivationBits = 12 } : l)),
        };
        // 12-bit activations train (quantize-dequantize in float), but the packed planner refuses them by name.
        Assert.NotNull(new SpecNetwork(wide, 1));
        var ex = Assert.Throws<NotSupportedException>(() => BnnDsl.Deployment.PackedPlan.Plan(wide));
        Assert.Contains("12 bits", ex.Message);

        var spec = new SpecNetwork(TinyNet.Spec, 1);
        Assert.Throws<KeyNotFoundException>(() => spec.LayerOutput("conv9"));

        var tampered = TinyNet.Spec with { Layers = new EquatableArray<LayerSpec>([.. TinyNet.Spec.Layers.Select((l, i) => i == 0 ? l with { OutputShape = TensorShape.Image(8, 7, 7) } : l)]) };
        Assert.Throws<ArgumentException>(() => new SpecNetwork(tampered, 1));
    }
}
