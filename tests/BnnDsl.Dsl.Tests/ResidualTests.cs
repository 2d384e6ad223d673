// Residual blocks and repeats in the dsl: shape inference through blocks, both front ends giving one network, and
// one diagnostic, at the right line, for each unbalanced or mismatched block.
using static BnnDsl.Dsl.Tests.Networks;

namespace BnnDsl.Dsl.Tests;

public class ResidualTests
{
    private static NetworkSpec WithoutLocations(NetworkSpec network) => network with
    {
        Location = null,
        Layers = new EquatableArray<LayerSpec>(network.Layers.Select(l => l with { Location = null })),
    };

    private static InferenceResult Infer(TensorShape input, params LayerAttribute[] layers) =>
        ShapeInference.Infer(Declare("Net", input, layers));

    private static string RepositoryFile(params string[] parts)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
            directory = directory.Parent ?? throw new InvalidOperationException("BnnDsl.sln not found above the test binaries");
        return Path.Combine([directory.FullName, .. parts]);
    }

    [Fact]
    public void IdentityBlockKeepsTheShapeAndShortcutReadsTheBlockInput()
    {
        var result = Infer(TensorShape.Image(8, 16, 16),
            new ResidualAttribute(), new QActivationAttribute(), new QConvolutionAttribute(8, 3) { Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute(),
            new ResidualAttribute(), new QConvolutionAttribute(16, 3) { Stride = 2, Pad = 1 },
            new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(16, 1), new EndResidualAttribute());

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var layers = result.Network.Layers;
        Assert.Equal(TensorShape.Image(8, 16, 16), layers[4].OutputShape);
        Assert.Equal(TensorShape.Image(16, 8, 8), layers[7].InputShape);
        Assert.Equal(TensorShape.Image(8, 16, 16), layers[7].OutputShape);
        Assert.Equal(TensorShape.Image(8, 16, 16), layers[8].InputShape);
        Assert.Equal(TensorShape.Image(16, 8, 8), result.Network.Output);
    }

    [Fact]
    public void BlocksNest()
    {
        var result = Infer(TensorShape.Image(4, 8, 8),
            new ResidualAttribute(), new ResidualAttribute(), new ReLUAttribute(), new EndResidualAttribute(),
            new ShortcutAttribute(), new EndResidualAttribute(), new ResidualAttribute(), new EndResidualAttribute());

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.All(result.Network.Layers, l => Assert.Equal(TensorShape.Image(4, 8, 8), l.OutputShape));
    }

    [Fact]
    public void Bnn0016NamesBothShapesAtTheEndResidual()
    {
        var result = Infer(TensorShape.Image(64, 32, 32),
            new ResidualAttribute(), new QConvolutionAttribute(128, 3) { Stride = 2, Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute(),
            new ReLUAttribute());

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("BNN0016", diagnostic.Id);
        Assert.Equal(4, diagnostic.Location!.Line);
        Assert.Equal("The residual block closed by layer 4 (EndResidual) does not add up: the main path gives 128x16x16 but the shortcut "
            + "gives 64x32x32 (the block input); add a downsampling shortcut ending in 128x16x16, e.g. [Shortcut] then "
            + "AvgPool(size 2) + 1x1 Convolution(128) + BatchNorm", diagnostic.Message);
        Assert.False(result.Network.Layers[4].OutputShape.IsKnown);
    }

    [Fact]
    public void Bnn0016WithAShortcutPath()
    {
        var result = Infer(TensorShape.Image(64, 32, 32),
            new ResidualAttribute(), new QConvolutionAttribute(128, 3) { Stride = 2, Pad = 1 },
            new ShortcutAttribute(), new ConvolutionAttribute(128, 1), new EndResidualAttribute());

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(("BNN0016", 5), (diagnostic.Id, diagnostic.Location!.Line));
        Assert.Contains("the main path gives 128x16x16 but the shortcut gives 128x32x32; make the shortcut path end in 128x16x16", diagnostic.Message);
    }

    [Theory]
    [InlineData(1, "Layer 1 (EndResidual) is not inside a residual block", "EndResidual")]
    [InlineData(2, "Layer 2 (Shortcut) is not inside a residual block", "ReLU", "Shortcut")]
    [InlineData(1, "Residual block of layer 1 is never closed", "Residual", "ReLU")]
    [InlineData(3, "Layer 3 is a second Shortcut in the residual block of layer 1", "Residual", "Shortcut", "Shortcut", "EndResidual")]
    public void Bnn0017UnbalancedResidualMarkers(int line, string problem, params string[] kinds)
    {
        var layers = kinds.Select(k => (LayerAttribute)Activator.CreateInstance(typeof(LayerAttribute).Assembly.GetType($"BnnDsl.{k}Attribute")!)!).ToArray();

        var diagnostic = Assert.Single(Infer(TensorShape.Image(4, 8, 8), layers).Diagnostics);
        Assert.Equal(("BNN0017", line), (diagnostic.Id, diagnostic.Location!.Line));
        Assert.StartsWith(problem + "; ", diagnostic.Message);
    }

    [Fact]
    public void RepeatsExpandInPlaceAndNest()
    {
        var builder = new LayerListBuilder();
        var relu = new ReLUAttribute().ToLayerSpec(At(2));
        var flatten = new FlattenAttribute().ToLayerSpec(At(4));
        builder.Add(new BatchNormAttribute().ToLayerSpec(At(0)));
        builder.BeginRepeat(2, At(1));
        builder.Add(relu);
        builder.BeginRepeat(3, At(3));
        builder.Add(flatten);
        builder.EndRepeat(At(5));
        builder.EndRepeat(At(6));

        var layers = builder.Build();
        Assert.Empty(builder.Diagnostics);
        Assert.Equal("BatchNorm ReLU Flatten Flatten Flatten ReLU Flatten Flatten Flatten", string.Join(" ", layers.Select(l => l.Kind)));
        Assert.Equal(At(2), layers[5].Location);
    }

    [Fact]
    public void Bnn0017UnbalancedRepeats()
    {
        var builder = new LayerListBuilder();
        builder.EndRepeat(At(1));
        builder.BeginRepeat(0, At(2));
        builder.Add(new ReLUAttribute().ToLayerSpec(At(3)));
        builder.BeginRepeat(2, At(4));

        Assert.Single(builder.Build());
        // Both open repeats are reported when the list is built, innermost first.
        Assert.Equal([("BNN0017", 1), ("BNN0017", 2), ("BNN0017", 4), ("BNN0017", 2)], builder.Diagnostics.Select(d => (d.Id, d.Location!.Line)));
        Assert.StartsWith("EndRepeat closes no open Repeat", builder.Diagnostics[0].Message);
        Assert.StartsWith("Repeat count 0 is below 1", builder.Diagnostics[1].Message);
        Assert.StartsWith("Repeat is never closed", builder.Diagnostics[2].Message);
    }

    [Fact]
    public void TextAndAttributesGiveTheSameResidualNetwork()
    {
        var (text, diagnostics) = BnnTextParser.Parse("""
            network Net input 8x16x16
            repeat 2
              residual
                QActivation
                QConvolution filters=8 kernel=3 pad=1
                BatchNorm
              end
            end
            residual; QConvolution filters=16 kernel=3 stride=2 pad=1; shortcut; AvgPool size=2; Convolution filters=16 kernel=1; end
            GlobalAvgPool
            """, "net.bnn");
        Assert.Empty(diagnostics);

        LayerAttribute[] block = [new ResidualAttribute(), new QActivationAttribute(), new QConvolutionAttribute(8, 3) { Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute()];
        var attributes = ShapeInference.Infer(Declare("Net", TensorShape.Image(8, 16, 16),
            [.. block, .. block, new ResidualAttribute(), new QConvolutionAttribute(16, 3) { Stride = 2, Pad = 1 },
             new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(16, 1), new EndResidualAttribute(), new GlobalAvgPoolAttribute()]));
        Assert.Equal(WithoutLocations(attributes.GetNetworkOrThrow()), WithoutLocations(text!));
        // The copies of a repeat keep the location of the line they copy.
        Assert.Equal(text!.Layers[2].Location, text.Layers[7].Location);
        Assert.Equal(4, text.Layers[2].Location!.Line);
    }

    [Fact]
    public void ResNet18ExampleInfersTo512x4x4BeforePooling()
    {
        string path = RepositoryFile("examples", "ResNet18", "resnet18.bnn");
        var (network, diagnostics) = BnnTextParser.Parse(File.ReadAllText(path), path);

        Assert.Empty(diagnostics);
        Assert.Equal(TensorShape.Image(512, 4, 4), network!.Layers.Single(l => l.Kind == LayerKind.GlobalAvgPool).InputShape);
        Assert.Equal(16, network.Layers.Count(l => l.Kind == LayerKind.QConvolution));
        Assert.Equal(16, network.Layers.Count(l => l.Kind == LayerKind.EndResidual));
        Assert.True(File.ReadAllLines(path).Count(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')) <= 45);
    }

    [Theory]
    [InlineData("end", 1, 0, "BNN0017", "'end' closes no open 'residual' or 'repeat'")]
    [InlineData("residual\nReLU\nend\nend", 4, 0, "BNN0017", "'end' closes no open 'residual' or 'repeat'")]
    [InlineData("repeat 0\nReLU\nend", 1, 0, "BNN0017", "Repeat count 0 is below 1")]
    [InlineData("repeat 2\nReLU", 1, 0, "BNN0017", "Repeat is never closed")]
    [InlineData("repeat\nReLU\nend", 1, 0, "BNN0009", "'repeat' has no count")]
    [InlineData("repeat two\nReLU\nend", 1, 7, "BNN0009", "Repeat count 'two' is not an integer")]
    [InlineData("residual now\nend", 1, 9, "BNN0009", "Unexpected 'now' after 'residual'")]
    [InlineData("residual\nReLU", 1, 0, "BNN0017", "Residual block of layer 1 is never closed")]
    [InlineData("ReLU\nshortcut", 2, 0, "BNN0017", "Layer 2 (Shortcut) is not inside a residual block")]
    [InlineData("residual\nMaxPool size=2\nend", 3, 0, "BNN0016", "The residual block closed by layer 3 (EndResidual) does not add up")]
    public void BlockMistakesAreOneDiagnosticAtTheirLine(string layers, int line, int column, string id, string message)
    {
        var (_, diagnostics) = BnnTextParser.Parse("network Net input 4x8x8\n" + layers, "net.bnn");

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal((id, line, column), (diagnostic.Id, diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.StartsWith(message, diagnostic.Message);
    }

    [Theory]
    [InlineData("Residual", "residual")]
    [InlineData("EndResidual", "end")]
    [InlineData("EndRepeat", "end")]
    public void AttributeSpellingsOfKeywordsSuggestTheKeyword(string word, string keyword)
    {
        var diagnostic = Assert.Single(BnnTextParser.Parse($"network Net input 4x8x8\n{word}", "net.bnn").Diagnostics);

        Assert.Equal("BNN0010", diagnostic.Id);
        Assert.StartsWith($"Unknown layer '{word}'; did you mean '{keyword}'?", diagnostic.Message);
    }

    [Fact]
    public void SemicolonsSeparateStatementsOnOneLine()
    {
        var (network, diagnostics) = BnnTextParser.Parse("network Net input 4x8x8; ReLU ;; BatchNorm # ; not a statement\nFlatten", "net.bnn");

        Assert.Empty(diagnostics);
        Assert.Equal("ReLU BatchNorm Flatten", string.Join(" ", network!.Layers.Select(l => l.Kind)));
        Assert.Equal((0, 33), (network.Layers[1].Location!.Line, network.Layers[1].Location!.Column));
    }
}
