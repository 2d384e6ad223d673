// Shapes inferred layer by layer, against sizes worked out by hand.
namespace BnnDsl.Dsl.Tests;

public class ShapeInferenceTests
{
    [Fact]
    public void LeNetShapes()
    {
        var result = ShapeInference.Infer(Networks.LeNet());

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Equal(
            ["64x24x24", "64x24x24", "64x12x12", "64x12x12", "64x8x8", "64x8x8", "64x4x4", "64x4x4",
             "1024", "512", "512", "512", "10", "10"],
            result.Network.Layers.Select(l => l.OutputShape.ToString()));
        Assert.Equal(TensorShape.Image(1, 28, 28), result.Network.Layers[0].InputShape);
        Assert.Equal(TensorShape.Vector(1024), result.Network.Layers[9].InputShape);
        Assert.Equal(TensorShape.Vector(10), result.Network.Output);
    }

    [Theory]
    [InlineData(7, 3, 1, 0, 5)]
    [InlineData(7, 3, 1, 1, 7)]
    [InlineData(7, 3, 2, 1, 4)]
    [InlineData(8, 3, 2, 0, 3)]
    [InlineData(3, 3, 1, 0, 1)]
    [InlineData(1, 3, 1, 1, 1)]
    public void ConvolutionOutputIsPaddedSizeMinusKernelOverStridePlusOne(int size, int kernel, int stride, int pad, int expected)
    {
        var network = Networks.Declare("Conv", TensorShape.Image(3, size, size + 1),
            new QConvolutionAttribute(5, kernel) { Stride = stride, Pad = pad });

        var output = ShapeInference.Infer(network).GetNetworkOrThrow().Output;

        Assert.Equal(TensorShape.Image(5, expected, (size + 1 + 2 * pad - kernel) / stride + 1), output);
    }

    [Fact]
    public void PoolingKeepsChannelsAndDefaultsStrideToSize()
    {
        var network = Networks.Declare("Pool", TensorShape.Image(6, 9, 9),
            new MaxPoolAttribute(3), new AvgPoolAttribute(2, 1), new GlobalAvgPoolAttribute(), new ReLUAttribute());

        var layers = ShapeInference.Infer(network).GetNetworkOrThrow().Layers;

        Assert.Equal(TensorShape.Image(6, 3, 3), layers[0].OutputShape);
        Assert.Equal(TensorShape.Image(6, 2, 2), layers[1].OutputShape);
        Assert.Equal(TensorShape.Vector(6), layers[2].OutputShape);
        Assert.Equal(TensorShape.Vector(6), layers[3].OutputShape);
    }

    [Fact]
    public void FullyConnectedAfterGlobalAvgPoolNeedsNoFlatten()
    {
        var network = Networks.Declare("Gap", TensorShape.Image(32, 4, 4),
            new GlobalAvgPoolAttribute(), new QFullyConnectedAttribute(7) { WeightBits = 2, ActBits = 3 });

        var layer = ShapeInference.Infer(network).GetNetworkOrThrow().Layers[1];

        Assert.Equal(TensorShape.Vector(7), layer.OutputShape);
        Assert.Equal((2, 3), (layer.WeightBits, layer.ActivationBits));
    }

    [Fact]
    public void ShapesAfterTheFirstShapeErrorStayUnknown()
    {
        var network = Networks.Declare("Broken", TensorShape.Image(1, 4, 4),
            new ConvolutionAttribute(8, 5), new FullyConnectedAttribute(10), new BatchNormAttribute());

        var result = ShapeInference.Infer(network);

        Assert.Single(result.Diagnostics);
        Assert.All(result.Network.Layers, l => Assert.False(l.OutputShape.IsKnown));
        Assert.Equal(TensorShape.Unknown, result.Network.Output);
    }

    [Fact]
    public void AttributesMapToLayersWithTheirDefaults()
    {
        Assert.Equal(new LayerSpec(LayerKind.QConvolution, 64, 5, 1, 0, Padding.One, 1, 1),
            new QConvolutionAttribute(64, 5).ToLayerSpec());
        Assert.Equal(new LayerSpec(LayerKind.Convolution, 8, 3, 2, 1, Padding.One, 32, 32),
            new ConvolutionAttribute(8, 3) { Stride = 2, Pad = 1 }.ToLayerSpec());
        Assert.Equal(new LayerSpec(LayerKind.QActivation, ActivationBits: 1), new QActivationAttribute().ToLayerSpec());
        Assert.Equal(new LayerSpec(LayerKind.MaxPool, Kernel: 2, Stride: 2), new MaxPoolAttribute(2).ToLayerSpec());
        Assert.Equal(new LayerSpec(LayerKind.BatchNorm, WeightBits: 32), new BatchNormAttribute().ToLayerSpec());
        Assert.Equal(TensorShape.Image(3, 32, 32), new NetworkAttribute(3, 32, 32).InputShape);
    }

    [Fact]
    public void SpecsWithEqualContentAreEqual()
    {
        var a = ShapeInference.Infer(Networks.LeNet());
        var b = ShapeInference.Infer(Networks.LeNet());

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a.Network, a.Network with { Layers = new EquatableArray<LayerSpec>(a.Network.Layers.Take(3)) });
        Assert.Equal(default(EquatableArray<LayerSpec>), new EquatableArray<LayerSpec>([]));
    }

    [Fact]
    public void LayersAreNamedByKindAndCountInDeclarationOrder()
    {
        var network = new NetworkSpec("Net", TensorShape.Image(1, 8, 8), new EquatableArray<LayerSpec>(new LayerAttribute[]
        {
            new ConvolutionAttribute(4, 3), new BatchNormAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(4, 3),
            new BatchNormAttribute(), new FlattenAttribute(), new QFullyConnectedAttribute(8), new FullyConnectedAttribute(2),
            new SoftmaxCrossEntropyAttribute(),
        }.Select(a => a.ToLayerSpec())));

        Assert.Equal(["conv1", "bn1", "qact1", "qconv1", "bn2", "flatten1", "qfc1", "fc1", "loss1"], LayerNames.Of(network));
    }
}
