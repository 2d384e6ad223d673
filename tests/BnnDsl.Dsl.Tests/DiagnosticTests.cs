// Each validation rule: its id, the layer it points at, and a message that names what to change.
namespace BnnDsl.Dsl.Tests;

public class DiagnosticTests
{
    private static NetworkDiagnostic Only(NetworkSpec network)
    {
        var result = ShapeInference.Infer(network);
        Assert.False(result.Succeeded);
        Assert.Throws<InvalidNetworkException>(() => result.GetNetworkOrThrow());
        return Assert.Single(result.Diagnostics);
    }

    [Theory]
    [InlineData(0, 1, "WeightBits")]
    [InlineData(33, 1, "WeightBits")]
    [InlineData(1, 0, "ActBits")]
    [InlineData(1, -2, "ActBits")]
    public void Bnn0001BitWidthOutOfRange(int weightBits, int actBits, string option)
    {
        var diagnostic = Only(Networks.Declare("Net", TensorShape.Image(1, 8, 8),
            new FlattenAttribute(), new QFullyConnectedAttribute(4) { WeightBits = weightBits, ActBits = actBits }));

        Assert.Equal("BNN0001", diagnostic.Id);
        Assert.Equal(2, diagnostic.Location!.Line);
        Assert.StartsWith($"{option} of layer 2 (QFullyConnected) is", diagnostic.Message);
        Assert.EndsWith("use a width from 1 to 32", diagnostic.Message);
    }

    [Fact]
    public void Bnn0001CoversActivationBits()
    {
        var diagnostic = Only(Networks.Declare("Net", TensorShape.Image(1, 8, 8), new QActivationAttribute(40)));

        Assert.Equal("BNN0001", diagnostic.Id);
        Assert.Equal("Bits of layer 1 (QActivation) is 40; use a width from 1 to 32", diagnostic.Message);
    }

    [Theory]
    [InlineData(0, 28, 28)]
    [InlineData(1, -1, 28)]
    [InlineData(1, 28, 0)]
    public void Bnn0002InvalidInputShape(int channels, int height, int width)
    {
        var diagnostic = Only(Networks.Declare("Net", TensorShape.Image(channels, height, width), new ReLUAttribute()));

        Assert.Equal("BNN0002", diagnostic.Id);
        Assert.Equal(0, diagnostic.Location!.Line);
        Assert.Contains($"input channels {channels}, height {height}, width {width}", diagnostic.Message);
    }

    [Fact]
    public void Bnn0002MissingInputShape()
    {
        var network = new NetworkSpec("Net", TensorShape.Unknown,
            new EquatableArray<LayerSpec>([new ReLUAttribute().ToLayerSpec()]), Networks.At(0));

        Assert.Equal("BNN0002", Only(network).Id);
        Assert.Equal("BNN0002", Only(Networks.Declare("Net", new NetworkAttribute().InputShape, new ReLUAttribute())).Id);
    }

    [Fact]
    public void Bnn0003NoLayers()
    {
        var diagnostic = Only(Networks.Declare("Empty", TensorShape.Image(1, 28, 28)));

        Assert.Equal("BNN0003", diagnostic.Id);
        Assert.Equal(0, diagnostic.Location!.Line);
        Assert.Contains("'Empty' declares no layers", diagnostic.Message);
    }

    [Fact]
    public void Bnn0004KernelLargerThanInputNamesBothShapes()
    {
        var diagnostic = Only(Networks.Declare("Net", TensorShape.Image(1, 28, 28),
            new ConvolutionAttribute(64, 5), new MaxPoolAttribute(2), new MaxPoolAttribute(2),
            new QConvolutionAttribute(64, 7) { Pad = 0 }));

        Assert.Equal("BNN0004", diagnostic.Id);
        Assert.Equal(4, diagnostic.Location!.Line);
        Assert.StartsWith("The 7x7 window of layer 4 (QConvolution) is larger than its input 64x6x6 (padded 6x6)", diagnostic.Message);
    }

    [Fact]
    public void Bnn0004CountsPadding()
    {
        var padded = Networks.Declare("Net", TensorShape.Image(2, 3, 3), new QConvolutionAttribute(4, 5) { Pad = 1 });
        var pool = Networks.Declare("Net", TensorShape.Image(2, 3, 5), new AvgPoolAttribute(4));

        Assert.True(ShapeInference.Infer(padded).Succeeded);
        Assert.Contains("input 2x3x5 (padded 3x5)", Only(pool).Message);
    }

    [Fact]
    public void Bnn0005FlattenMissing()
    {
        var diagnostic = Only(Networks.Declare("Net", TensorShape.Image(1, 28, 28),
            new QConvolutionAttribute(8, 3), new QFullyConnectedAttribute(10)));

        Assert.Equal("BNN0005", diagnostic.Id);
        Assert.Equal(2, diagnostic.Location!.Line);
        Assert.Equal("Layer 2 (QFullyConnected) needs a flat input but gets 8x26x26; add [Flatten] before it", diagnostic.Message);
    }

    [Fact]
    public void Bnn0006InvalidOptions()
    {
        var result = ShapeInference.Infer(Networks.Declare("Net", TensorShape.Image(1, 28, 28),
            new QConvolutionAttribute(0, 3) { Stride = 0, Pad = -1, Padding = (Padding)7 },
            new MaxPoolAttribute(-2), new FullyConnectedAttribute(0), new ConvolutionAttribute(4, 0)));

        Assert.All(result.Diagnostics, d => Assert.Equal("BNN0006", d.Id));
        Assert.Equal(
            [
                "Filters of layer 1 (QConvolution) is 0; use a positive integer",
                "Stride of layer 1 (QConvolution) is 0; use a positive integer",
                "Pad of layer 1 (QConvolution) is -1; use zero or a positive integer",
                "Padding of layer 1 (QConvolution) is 7; use Padding.One or Padding.Zero",
                "Size of layer 2 (MaxPool) is -2; use a positive integer",
                "Stride of layer 2 (MaxPool) is -2; use a positive integer",
                "Units of layer 3 (FullyConnected) is 0; use a positive integer",
                "Kernel of layer 4 (Convolution) is 0; use a positive integer",
            ],
            result.Diagnostics.Select(d => d.Message));
        Assert.Equal([1, 1, 1, 1, 2, 2, 3, 4], result.Diagnostics.Select(d => d.Location!.Line));
    }

    [Fact]
    public void Bnn0007SpatialLayerOnFlatInput()
    {
        var diagnostic = Only(Networks.Declare("Net", TensorShape.Image(4, 8, 8),
            new FlattenAttribute(), new MaxPoolAttribute(2)));

        Assert.Equal("BNN0007", diagnostic.Id);
        Assert.Equal(2, diagnostic.Location!.Line);
        Assert.Contains("gets the flat 256", diagnostic.Message);
    }

    [Fact]
    public void DescriptorIdsAreUniqueAndNumberedInOrder()
    {
        Assert.Equal(
            Enumerable.Range(1, BnnDiagnostics.All.Count).Select(i => $"BNN{i:D4}"),
            BnnDiagnostics.All.Select(d => d.Id));
        Assert.All(BnnDiagnostics.All, d => Assert.False(d.MessageFormat.EndsWith('.')));
    }

    [Fact]
    public void ToStringShowsOneBasedLocationIdAndMessage()
    {
        var diagnostic = Only(Networks.Declare("Empty", TensorShape.Image(1, 28, 28)));

        Assert.StartsWith("Test.cs(1,2): BNN0003: Network 'Empty'", diagnostic.ToString());
    }
}
