// 2-bit networks end to end: the generated forward (logits, loss) and backward of a LeNet-shaped network and of a
// small residual network equal the double-precision reference, a 2-bit TinyNet learns, the packed converter runs them
// and refuses 9..31-bit layers by name.
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Training.Tests;

/// <summary>LeNet's shape with 2-bit middle layers (DoReFa activations, uniform weights), narrowed so the reference runs fast.</summary>
[Network(1, 28, 28)]
[Convolution(16, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(2)]
[QConvolution(16, 5, WeightBits = 2, ActBits = 2)]
[BatchNorm]
[MaxPool(2)]
[QActivation(2)]
[Flatten]
[QFullyConnected(64, WeightBits = 2, ActBits = 2)]
[BatchNorm]
[QActivation(2)]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class TwoBitLeNet;

/// <summary><see cref="SmallResNet"/> with 2-bit activations and weights (a 2/4 convolution in the nested block).</summary>
[Network(3, 8, 8)]
[Convolution(8, 3, Pad = 1)]
[BatchNorm]
[Repeat(2)]
[Residual, QActivation(2), QConvolution(8, 3, Pad = 1, WeightBits = 2, ActBits = 2), BatchNorm, EndResidual]
[EndRepeat]
[Residual, QActivation(2), QConvolution(16, 3, Stride = 2, Pad = 1, WeightBits = 2, ActBits = 2), BatchNorm]
[Shortcut, AvgPool(2), Convolution(16, 1), BatchNorm, EndResidual]
[Residual]
[Residual, QActivation(4), QConvolution(16, 3, Pad = 1, WeightBits = 2, ActBits = 4), BatchNorm, EndResidual]
[BatchNorm]
[EndResidual]
[GlobalAvgPool]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class TwoBitResNet;

/// <summary><see cref="TinyNet"/> with 2-bit middle layers.</summary>
[Network(1, 8, 8)]
[Convolution(8, 3)]
[BatchNorm]
[MaxPool(2)]
[QActivation(2)]
[QConvolution(16, 3, Pad = 1, WeightBits = 2, ActBits = 2)]
[BatchNorm]
[QActivation(2)]
[Flatten]
[QFullyConnected(32, WeightBits = 2, ActBits = 2)]
[BatchNorm]
[QActivation(2)]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class TwoBitTinyNet;

public sealed class LowBitNetworkTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-lowbit-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void GeneratedCodeRunsTheBitSerialLayers()
    {
        var network = new TwoBitLeNet(2);
        Assert.Equal(["Conv2dLayer", "BatchNormLayer", "MaxPoolLayer", "QuantizeLayer", "QuantizedConv2dLayer", "BatchNormLayer",
            "MaxPoolLayer", "QuantizeLayer", "QuantizedDenseLayer", "BatchNormLayer", "QuantizeLayer", "DenseLayer"],
            network.Layers.Select(l => l.GetType().Name));
        var weight = network.Parameter("qconv1.weight");
        Assert.Equal((ParameterRole.LatentWeight, 2), (weight.Role, weight.Bits));
    }

    [Fact]
    public void TwoBitLeNetForwardAndGradientEqualTheFloatReference() =>
        LeNetGradientTests.AssertForwardAndGradientsMatch(batch => new TwoBitLeNet(batch), batch: 4, classes: 10);

    [Fact]
    public void TwoBitResNetForwardAndGradientEqualTheFloatReference() =>
        LeNetGradientTests.AssertForwardAndGradientsMatch(batch => new TwoBitResNet(batch), batch: 4, classes: 3);

    [Fact]
    public void TwoBitTinyNetLearnsTheSyntheticTask() =>
        TrainerTests.AssertLearnsTheSyntheticTask(new TwoBitTinyNet(32), Path.Combine(directory, "learn"));

    [Fact]
    public void ThePackedConverterRefusesWideAndMixedLayersByName()
    {
        var network = new TwoBitLeNet(1);
        network.Initialize(1);
        var model = ModelConverter.Convert(network.Definition, name => network.Parameter(name).Value);
        Assert.Contains(model.Steps, s => s.Op == BnnDsl.Deployment.PlanOp.BitSerialConv);
        var spec = network.Definition;
        var wide = spec with
        {
            Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l.Kind == LayerKind.QActivation ? l with { ActivationBits = 12 } : l)),
        };
        var error = Assert.Throws<NotSupportedException>(() => ModelConverter.Convert(wide, name => network.Parameter(name).Value));
        Assert.Contains("'qact1'", error.Message);
        Assert.Contains("12 bits", error.Message);

        // With the activations at 1 bit, the 2-bit convolution mixes widths the kernels do not run.
        var weightsOnly = spec with
        {
            Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l.Kind is LayerKind.QActivation or LayerKind.QConvolution ? l with { ActivationBits = 1 } : l)),
        };
        error = Assert.Throws<NotSupportedException>(() => ModelConverter.Convert(weightsOnly, name => network.Parameter(name).Value));
        Assert.Contains("'qconv1'", error.Message);
        Assert.Contains("2-bit weights", error.Message);
    }
}
