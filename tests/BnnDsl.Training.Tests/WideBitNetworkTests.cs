// 9..31-bit and mixed-width networks end to end: the generated forward (logits, loss) and every parameter gradient
// equal the double-precision reference, the layers are the quantize-dequantize float layers, a 12/16-bit TinyNet
// learns, and the packed converter refuses them by name.
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Training.Tests;

/// <summary>
/// 12- and 16-bit layers. The first 12/12 convolution reads the network input, so both implementations quantize the
/// same floats; the later 16-bit activations come from float layers, where float32 and double may round a value to
/// neighbouring levels (1/65535 apart), well inside the tolerances.
/// </summary>
[Network(1, 10, 10)]
[QConvolution(8, 3, WeightBits = 12, ActBits = 12)]
[BatchNorm]
[MaxPool(2)]
[QActivation(16)]
[QConvolution(8, 3, Pad = 1, WeightBits = 16, ActBits = 16)]
[BatchNorm]
[QActivation(16)]
[Flatten]
[QFullyConnected(24, WeightBits = 12, ActBits = 32)]
[BatchNorm]
[QActivation(24)]
[QFullyConnected(16, WeightBits = 31, ActBits = 16)]
[BatchNorm]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class WideBitNet;

/// <summary>
/// Mixed widths: 1-bit weights on float activations, float weights on sign activations (padding +1), a 4/8 bit-serial
/// convolution, QActivation(32) (the identity), 4/32 and 3/1 fully connected layers.
/// </summary>
[Network(2, 8, 8)]
[QConvolution(8, 3, Pad = 1, WeightBits = 1, ActBits = 32)]
[BatchNorm]
[QConvolution(8, 3, Pad = 1, WeightBits = 32, ActBits = 1)]
[BatchNorm]
[MaxPool(2)]
[QActivation(4)]
[QConvolution(8, 3, Pad = 1, WeightBits = 4, ActBits = 8)]
[BatchNorm]
[QActivation(32)]
[Flatten]
[QFullyConnected(16, WeightBits = 4, ActBits = 32)]
[BatchNorm]
[QFullyConnected(16, WeightBits = 3, ActBits = 1)]
[BatchNorm]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class MixedWidthNet;

/// <summary><see cref="TinyNet"/> with 12- and 16-bit middle layers.</summary>
[Network(1, 8, 8)]
[Convolution(8, 3)]
[BatchNorm]
[MaxPool(2)]
[QActivation(12)]
[QConvolution(16, 3, Pad = 1, WeightBits = 12, ActBits = 12)]
[BatchNorm]
[QActivation(16)]
[Flatten]
[QFullyConnected(32, WeightBits = 16, ActBits = 16)]
[BatchNorm]
[QActivation(16)]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class WideBitTinyNet;

public sealed class WideBitNetworkTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-widebit-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void GeneratedCodeRunsTheQuantizeDequantizeFloatLayers()
    {
        var network = new WideBitNet(2);
        Assert.Equal(["Conv2dLayer", "BatchNormLayer", "MaxPoolLayer", "QuantizeLayer", "Conv2dLayer", "BatchNormLayer", "QuantizeLayer",
            "DenseLayer", "BatchNormLayer", "QuantizeLayer", "DenseLayer", "BatchNormLayer", "DenseLayer"],
            network.Layers.Select(l => l.GetType().Name));
        var conv = Assert.IsType<Conv2dLayer>(network.Layers[0]);
        Assert.Equal((12, 12, (Parameter?)null), (conv.WeightBits, conv.ActivationBits, conv.Bias));
        var weight = network.Parameter("qconv1.weight");
        Assert.Equal((ParameterRole.LatentWeight, 12), (weight.Role, weight.Bits));
        Assert.Equal((ParameterRole.LatentWeight, 31), (network.Parameter("qfc2.weight").Role, network.Parameter("qfc2.weight").Bits));
        Assert.Equal(16, Assert.IsType<QuantizeLayer>(network.Layers[3]).Bits);

        var mixed = new MixedWidthNet(2);
        Assert.Equal(["Conv2dLayer", "BatchNormLayer", "Conv2dLayer", "BatchNormLayer", "MaxPoolLayer", "QuantizeLayer", "QuantizedConv2dLayer",
            "BatchNormLayer", "QuantizeLayer", "DenseLayer", "BatchNormLayer", "DenseLayer", "BatchNormLayer", "DenseLayer"],
            mixed.Layers.Select(l => l.GetType().Name));
        Assert.Equal((ParameterRole.LatentWeight, 1), (mixed.Parameter("qconv1.weight").Role, mixed.Parameter("qconv1.weight").Bits));
        Assert.Equal((ParameterRole.Weight, 32), (mixed.Parameter("qconv2.weight").Role, mixed.Parameter("qconv2.weight").Bits));
    }

    [Fact]
    public void WideBitNetForwardAndGradientEqualTheFloatReference() =>
        LeNetGradientTests.AssertForwardAndGradientsMatch(batch => new WideBitNet(batch), batch: 4, classes: 3);

    [Fact]
    public void MixedWidthNetForwardAndGradientEqualTheFloatReference() =>
        LeNetGradientTests.AssertForwardAndGradientsMatch(batch => new MixedWidthNet(batch), batch: 4, classes: 3);

    [Fact]
    public void WideBitTinyNetLearnsTheSyntheticTask() =>
        TrainerTests.AssertLearnsTheSyntheticTask(new WideBitTinyNet(32), Path.Combine(directory, "learn"));

    [Fact]
    public void ThePackedConverterRefusesWideAndMixedLayersByName()
    {
        var network = new MixedWidthNet(1);
        network.Initialize(1);
        var error = Assert.Throws<NotSupportedException>(() => ModelConverter.Convert(network.Definition, name => network.Parameter(name).Value));
        Assert.Contains("'qconv1'", error.Message);
        Assert.Contains("1-bit weights and 32-bit activations", error.Message);

        // With that convolution binary and the first quantizer at 12 bits, the quantizer is the refused layer.
        var spec = network.Definition;
        var wide = spec with
        {
            Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l.Kind switch
            {
                LayerKind.QConvolution when l.WeightBits == 1 || l.ActivationBits == 1 => l with { WeightBits = 1, ActivationBits = 1 },
                LayerKind.QActivation when l.ActivationBits == 4 => l with { ActivationBits = 12 },
                _ => l,
            })),
        };
        error = Assert.Throws<NotSupportedException>(() => ModelConverter.Convert(wide, name => network.Parameter(name).Value));
        Assert.Contains("'qact1'", error.Message);
        Assert.Contains("12 bits", error.Message);
    }

    [Fact]
    public void TheSummaryMarksTheQuantizeDequantizeLayers()
    {
        string table = WideBitNet.Summary();
        Assert.Contains(" 12/12*", table);
        Assert.Contains(" 16/16*", table);
        Assert.Contains(" 12/32*", table);
        Assert.Contains("* quantize-dequantize: values of these bit widths, computed in float32 (no speed gain over 32-bit)", table);
        Assert.DoesNotContain("*", TwoBitLeNet.Summary());
        Assert.Contains(" 4/8 ", MixedWidthNet.Summary());
    }
}
