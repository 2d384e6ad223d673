// The summary of a residual network: block markers cost nothing and are shown as residual / + shortcut / add, with
// the layers of each block indented.
namespace BnnDsl.Runtime.Tests;

public class ResidualSummaryTests
{
    [Fact]
    public void MarkersHaveNoParametersOrMacsAndShowInTheTable()
    {
        LayerAttribute[] layers =
        [
            new ResidualAttribute(), new QConvolutionAttribute(16, 3) { Stride = 2, Pad = 1 },
            new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(16, 1),
            new ResidualAttribute(), new EndResidualAttribute(), new EndResidualAttribute(),
        ];
        var summary = NetworkSummary.Create(new NetworkSpec("Net", TensorShape.Image(8, 8, 8),
            new EquatableArray<LayerSpec>(layers.Select(l => l.ToLayerSpec()))));

        Assert.Equal(new LayerSummary(1, LayerKind.Residual, TensorShape.Image(8, 8, 8), 0, 0, 0, 0, 0), summary.Layers[0]);
        Assert.Equal(new LayerSummary(3, LayerKind.Shortcut, TensorShape.Image(8, 8, 8), 0, 0, 0, 0, 0), summary.Layers[2]);
        Assert.Equal(new LayerSummary(8, LayerKind.EndResidual, TensorShape.Image(16, 4, 4), 0, 0, 0, 0, 0), summary.Layers[7]);
        // QConvolution 16*8*9 one-bit weights, 16*4*4*72 MACs; Convolution 16*8 + 16 floats, 16*4*4*8 MACs.
        Assert.Equal(1_152 + 144, summary.Parameters);
        Assert.Equal(18_432 + 2_048, summary.Macs);

        var rows = summary.ToTable().Split('\n');
        Assert.StartsWith("  1  residual ", rows[2]);
        Assert.StartsWith("  2    QConvolution ", rows[3]);
        Assert.StartsWith("  3  + shortcut ", rows[4]);
        Assert.StartsWith("  4    AvgPool ", rows[5]);
        Assert.StartsWith("  6    residual ", rows[7]);
        Assert.StartsWith("  7    add ", rows[8]);
        Assert.StartsWith("  8  add ", rows[9]);
    }
}
