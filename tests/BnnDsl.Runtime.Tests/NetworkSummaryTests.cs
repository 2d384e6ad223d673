// Parameters, packed bytes and MACs of a tiny network and of the binary LeNet, each worked out by hand.
namespace BnnDsl.Runtime.Tests;

public class NetworkSummaryTests
{
    private static NetworkSpec Declare(TensorShape input, params LayerAttribute[] layers) =>
        new("Net", input, new EquatableArray<LayerSpec>(layers.Select(l => l.ToLayerSpec())));

    private static NetworkSummary LeNet() => NetworkSummary.Create(Declare(TensorShape.Image(1, 28, 28),
        new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new FlattenAttribute(), new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute()));

    [Fact]
    public void TinyNetwork()
    {
        // 3x8x8 -> QConvolution 16 3x3 pad 1 (w1a1) -> BatchNorm -> Flatten (1024) -> FullyConnected 10.
        var summary = NetworkSummary.Create(Declare(TensorShape.Image(3, 8, 8),
            new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new FlattenAttribute(),
            new FullyConnectedAttribute(10)));

        // QConvolution: 16*3*9 = 432 one-bit weights = 54 bytes; 16*8*8 outputs * 27 = 27,648 MACs.
        Assert.Equal(new LayerSummary(1, LayerKind.QConvolution, TensorShape.Image(16, 8, 8), 1, 1, 432, 54, 27_648), summary.Layers[0]);
        // BatchNorm: 4 * 16 float32 values.
        Assert.Equal(new LayerSummary(2, LayerKind.BatchNorm, TensorShape.Image(16, 8, 8), 32, 0, 64, 256, 0), summary.Layers[1]);
        Assert.Equal(new LayerSummary(3, LayerKind.Flatten, TensorShape.Vector(1024), 0, 0, 0, 0, 0), summary.Layers[2]);
        // FullyConnected: 10*1024 weights + 10 biases, float32.
        Assert.Equal(new LayerSummary(4, LayerKind.FullyConnected, TensorShape.Vector(10), 32, 32, 10_250, 41_000, 10_240), summary.Layers[3]);

        Assert.Equal(10_746, summary.Parameters);
        Assert.Equal(41_310, summary.ModelBytes);
        Assert.Equal(42_984, summary.FloatEquivalentBytes);
        Assert.Equal(42_984.0 / 41_310, summary.CompressionRatio, 12);
        Assert.Equal(37_888, summary.Macs);
        Assert.Equal(27_648, summary.BinarizedMacs);
        Assert.Equal(27_648.0 / 37_888, summary.BinarizedMacShare, 12);
        Assert.Equal(new Dictionary<int, long> { [1] = 432, [32] = 10_314 }, summary.ParametersByBits);
        Assert.Equal(new Dictionary<(int, int), long> { [(1, 1)] = 27_648, [(32, 32)] = 10_240 }, summary.MacsByPrecision);
    }

    [Fact]
    public void MultiBitWeightsArePackedAtTheirWidth()
    {
        // 5 features -> 3 units at 3 bits: 15 weights * 3 bits = 45 bits = 6 bytes; 2-bit activations.
        var summary = NetworkSummary.Create(Declare(TensorShape.Image(5, 1, 1),
            new FlattenAttribute(), new QFullyConnectedAttribute(3) { WeightBits = 3, ActBits = 2 }));

        Assert.Equal(15, summary.Layers[1].Parameters);
        Assert.Equal(6, summary.Layers[1].Bytes);
        Assert.Equal("3/2", summary.Layers[1].Bits);
        Assert.Equal(new Dictionary<(int, int), long> { [(3, 2)] = 15 }, summary.MacsByPrecision);
        Assert.Equal(0, summary.BinarizedMacShare);
    }

    [Fact]
    public void LeNetLayers()
    {
        var layers = LeNet().Layers;

        // Convolution 64 5x5 on 1 channel: 1,600 weights + 64 biases in float32.
        Assert.Equal((1_664L, 6_656L, 921_600L), (layers[0].Parameters, layers[0].Bytes, layers[0].Macs));
        // QConvolution 64 5x5 on 64 channels: 102,400 one-bit weights = 12,800 bytes; 64*8*8 outputs * 1,600.
        Assert.Equal((102_400L, 12_800L, 6_553_600L), (layers[4].Parameters, layers[4].Bytes, layers[4].Macs));
        // QFullyConnected 1024 -> 512: 524,288 one-bit weights = 65,536 bytes.
        Assert.Equal((524_288L, 65_536L, 524_288L), (layers[9].Parameters, layers[9].Bytes, layers[9].Macs));
        // BatchNorm over 512 features: 2,048 float32 values.
        Assert.Equal((2_048L, 8_192L), (layers[10].Parameters, layers[10].Bytes));
        // FullyConnected 512 -> 10: 5,120 weights + 10 biases.
        Assert.Equal((5_130L, 20_520L, 5_120L), (layers[12].Parameters, layers[12].Bytes, layers[12].Macs));
        Assert.Equal(["32/32", "32", "-", "1", "1/1"], layers.Take(5).Select(l => l.Bits));
    }

    [Fact]
    public void LeNetTotals()
    {
        var summary = LeNet();

        Assert.Equal(636_042, summary.Parameters);
        Assert.Equal(new Dictionary<int, long> { [1] = 626_688, [32] = 9_354 }, summary.ParametersByBits);
        Assert.Equal(115_752, summary.ModelBytes);
        Assert.Equal(2_544_168, summary.FloatEquivalentBytes);
        Assert.Equal(21.98, summary.CompressionRatio, 2);
        Assert.Equal(8_004_608, summary.Macs);
        Assert.Equal(7_077_888, summary.BinarizedMacs);
        Assert.Equal(0.8842, summary.BinarizedMacShare, 4);
    }

    [Fact]
    public void TableListsEveryLayerAndTheTotals()
    {
        var lines = LeNet().ToTable().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(1 + 1 + 14 + 3, lines.Length);
        Assert.Equal("Net: input 1x28x28, output 10", lines[0]);
        Assert.Equal("  5  QConvolution         64x8x8          1/1      102,400     12,800      6,553,600", lines[6]);
        Assert.Equal("Parameters: 636,042 (1-bit: 626,688, 32-bit: 9,354)", lines[^3]);
        Assert.Equal("Model size: 115,752 bytes packed, 2,544,168 bytes as float32 (compression 21.98x)", lines[^2]);
        Assert.Equal("MACs: 8,004,608 (w1a1: 7,077,888, w32a32: 926,720); binarized: 88.42 %", lines[^1]);
    }

    [Fact]
    public void InvalidNetworkThrowsWithItsDiagnostics()
    {
        var exception = Assert.Throws<InvalidNetworkException>(() => NetworkSummary.Create(Declare(TensorShape.Image(1, 4, 4),
            new QConvolutionAttribute(8, 5))));

        Assert.Equal("BNN0004", Assert.Single(exception.Diagnostics).Id);
        Assert.Contains("larger than its input 1x4x4", exception.Message);
    }
}
