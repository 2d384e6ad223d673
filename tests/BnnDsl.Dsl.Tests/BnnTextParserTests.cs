// The .bnn text form: it parses to the same NetworkSpec as the attribute form, and each mistake is one diagnostic at its line and column.
namespace BnnDsl.Dsl.Tests;

public class BnnTextParserTests
{
    private const string LeNetText = """
        # LeNet-BNN for MNIST
        network LeNet input 1x28x28
        Convolution filters=64 kernel=5
        BatchNorm
        MaxPool size=2
        QActivation bits=1
        QConvolution filters=64 kernel=5 weight_bits=1 act_bits=1 padding=one
        BatchNorm
        MaxPool size=2
        QActivation bits=1
        Flatten
        QFullyConnected units=512 weight_bits=1 act_bits=1
        BatchNorm
        QActivation bits=1
        FullyConnected units=10
        SoftmaxCrossEntropy
        """;

    // Records compare their SourceLocation, which differs between front ends by design; compare everything else.
    private static NetworkSpec WithoutLocations(NetworkSpec network) => network with
    {
        Location = null,
        Layers = new EquatableArray<LayerSpec>(network.Layers.Select(l => l with { Location = null })),
    };

    private static NetworkSpec ParseValid(string text)
    {
        var (network, diagnostics) = BnnTextParser.Parse(text, "net.bnn");
        Assert.Empty(diagnostics);
        Assert.NotNull(network);
        return network;
    }

    private static LayerSpec OnlyLayer(string layerLine)
    {
        var previous = layerLine.Contains("FullyConnected", StringComparison.Ordinal) ? "Flatten" : "ReLU";
        var network = ParseValid($"network Net input 1x8x8\n{previous}\n{layerLine}");
        return network.Layers[1] with { Location = null, InputShape = default, OutputShape = default };
    }

    private static NetworkDiagnostic OnlyDiagnostic(string text)
    {
        var (_, diagnostics) = BnnTextParser.Parse(text, "net.bnn");
        return Assert.Single(diagnostics);
    }

    [Fact]
    public void LeNetEqualsTheAttributeForm()
    {
        var fromText = ParseValid(LeNetText);
        var fromAttributes = ShapeInference.Infer(Networks.LeNet()).GetNetworkOrThrow();

        Assert.Equal(WithoutLocations(fromAttributes), WithoutLocations(fromText));
        Assert.NotEqual(fromAttributes, fromText);
        Assert.Equal(TensorShape.Vector(10), fromText.Output);
    }

    [Fact]
    public void LocationsPointAtTheDeclaringLines()
    {
        var network = ParseValid(LeNetText);

        Assert.Equal(new SourceLocation("net.bnn", 22, 27, 1, 0, 1, 27), network.Location);
        var convolution = network.Layers[0].Location!;
        Assert.Equal((2, 0, 2, 31), (convolution.Line, convolution.Column, convolution.EndLine, convolution.EndColumn));
        Assert.Equal("Convolution filters=64 kernel=5", LeNetText.Substring(convolution.Start, convolution.Length));
        Assert.Equal("net.bnn(16,1)", network.Layers[13].Location!.ToString());
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("\n")]
    public void CommentsBlankLinesAndLineEndsDoNotChangeTheNetwork(string newLine)
    {
        var text = string.Join(newLine,
            "\uFEFF# a comment line",
            "",
            "network Small input 3x8x8   # trailing comment",
            "   \t",
            "\tQConvolution filters=4 kernel=3 pad=1#no space before the comment",
            "  # indented comment",
            "BatchNorm",
            "GlobalAvgPool",
            "FullyConnected units=2",
            "");
        var expected = ShapeInference.Infer(Networks.Declare("Small", TensorShape.Image(3, 8, 8),
            new QConvolutionAttribute(4, 3) { Pad = 1 }, new BatchNormAttribute(), new GlobalAvgPoolAttribute(),
            new FullyConnectedAttribute(2))).GetNetworkOrThrow();

        var network = ParseValid(text);

        Assert.Equal(WithoutLocations(expected), WithoutLocations(network));
        Assert.Equal((4, 1), (network.Layers[0].Location!.Line, network.Layers[0].Location!.Column));
        Assert.Equal(6, network.Layers[1].Location!.Line);
    }

    [Fact]
    public void AliasesMeanTheSameOptions()
    {
        Assert.Equal(OnlyLayer("QFullyConnected units=4 weight_bits=2 act_bits=3"), OnlyLayer("QFullyConnected units=4 weight_bit=2 act_bit=3"));
        Assert.Equal(new QActivationAttribute(2).ToLayerSpec(), OnlyLayer("QActivation act_bit=2"));
        Assert.Equal(new QActivationAttribute(2).ToLayerSpec(), OnlyLayer("QActivation act_bits=2"));
    }

    [Fact]
    public void DefaultsAreTheAttributes()
    {
        var network = ParseValid("network Net input 2x8x8\nQConvolution filters=4 kernel=3\nConvolution filters=4 kernel=3\n"
            + "MaxPool size=2\nAvgPool size=1\nQActivation\nFlatten\nQFullyConnected units=3\nFullyConnected units=2");
        LayerAttribute[] attributes =
        [
            new QConvolutionAttribute(4, 3), new ConvolutionAttribute(4, 3), new MaxPoolAttribute(2), new AvgPoolAttribute(1),
            new QActivationAttribute(), new FlattenAttribute(), new QFullyConnectedAttribute(3), new FullyConnectedAttribute(2),
        ];

        Assert.Equal(attributes.Select(a => a.ToLayerSpec()), network.Layers.Select(l => l with { Location = null, InputShape = default, OutputShape = default }));
    }

    [Fact]
    public void EveryOptionReachesTheLayer()
    {
        Assert.Equal(new QConvolutionAttribute(8, 3) { Stride = 2, Pad = 1, Padding = Padding.Zero, WeightBits = 2, ActBits = 4 }.ToLayerSpec(),
            OnlyLayer("QConvolution filters=8 kernel=3 stride=2 pad=1 padding=zero weight_bits=2 act_bits=4"));
        Assert.Equal(new ConvolutionAttribute(8, 3) { Stride = 2, Pad = 1 }.ToLayerSpec(),
            OnlyLayer("Convolution kernel=3 filters=8 pad=1 stride=2"));
        Assert.Equal(new MaxPoolAttribute(3, 1).ToLayerSpec(), OnlyLayer("MaxPool size=3 stride=1"));
        Assert.Equal(new AvgPoolAttribute(2, 1).ToLayerSpec(), OnlyLayer("AvgPool stride=1 size=2"));
        Assert.Equal(Padding.Zero, OnlyLayer("QConvolution filters=8 kernel=3 padding=Zero").Padding);
    }

    [Fact]
    public void EveryLayerKindIsALayerName()
    {
        // The residual block markers are the lower-case keywords 'residual', 'shortcut' and 'end' instead.
        foreach (var name in Enum.GetNames<LayerKind>().Except(["Residual", "Shortcut", "EndResidual"]))
        {
            var (_, diagnostics) = BnnTextParser.Parse($"network Net input 1x8x8\n{name}", "net.bnn");
            Assert.DoesNotContain(diagnostics, d => d.Id == "BNN0010");
        }
    }

    [Theory]
    [InlineData("", 0, 0, "The text declares no network")]
    [InlineData("# only a comment\n\n", 0, 0, "The text declares no network")]
    [InlineData("# LeNet\nFlatten\nReLU", 1, 0, "'Flatten' comes before the 'network' header")]
    [InlineData("network Net input 1x28\nReLU", 0, 18, "Input shape '1x28' is malformed")]
    [InlineData("network Net input 1x28xx\nReLU", 0, 18, "Input shape '1x28xx' is malformed")]
    [InlineData("network Net input -1x28x28\nReLU", 0, 18, "Input shape '-1x28x28' is malformed")]
    [InlineData("network Net input\nReLU", 0, 12, "'input' has no shape after it")]
    [InlineData("network Net 1x28x28\nReLU", 0, 12, "Expected 'input' after the network name, found '1x28x28'")]
    [InlineData("network Net input 1x8x8 extra\nReLU", 0, 24, "Unexpected 'extra' after the input shape")]
    [InlineData("network\nReLU", 0, 0, "The 'network' header has no name")]
    [InlineData("network 9Net input 1x8x8\nReLU", 0, 8, "'9Net' is not a valid network name")]
    [InlineData("network class input 1x8x8\nReLU", 0, 8, "'class' is a C# keyword and cannot name the generated class")]
    [InlineData("network Net input 1x8x8\nReLU\nnetwork Other input 1x8x8", 2, 0, "A second 'network' header")]
    [InlineData("network Net input 1x8x8\nFlatten\n  QFullyConnected units=4 fast", 2, 26, "Expected an option written key=value, found 'fast'")]
    [InlineData("network Net input 1x8x8\nReLU =3", 1, 5, "Expected an option written key=value, found '=3'")]
    public void Bnn0009SyntaxError(string text, int line, int column, string problem)
    {
        var diagnostic = OnlyDiagnostic(text);

        Assert.Equal("BNN0009", diagnostic.Id);
        Assert.Equal((line, column), (diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.Equal("net.bnn", diagnostic.Location.FilePath);
        Assert.StartsWith(problem + "; ", diagnostic.Message);
    }

    [Theory]
    [InlineData("QConv filters=8 kernel=3", "QConv", "QConvolution")]
    [InlineData("Convolutoin filters=8 kernel=3", "Convolutoin", "Convolution")]
    [InlineData("batchnorm", "batchnorm", "BatchNorm")]
    [InlineData("Relu", "Relu", "ReLU")]
    [InlineData("Softmax", "Softmax", "SoftmaxCrossEntropy")]
    public void Bnn0010UnknownLayerSuggestsTheClosest(string layerLine, string written, string suggestion)
    {
        var diagnostic = OnlyDiagnostic("network Net input 1x8x8\n\n  " + layerLine);

        Assert.Equal("BNN0010", diagnostic.Id);
        Assert.Equal((2, 2, written.Length), (diagnostic.Location!.Line, diagnostic.Location.Column, diagnostic.Location.Length));
        Assert.StartsWith($"Unknown layer '{written}'; did you mean '{suggestion}'? The layers are QConvolution, QFullyConnected,", diagnostic.Message);
    }

    [Fact]
    public void Bnn0011UnknownOptionListsTheValidOnes()
    {
        var diagnostic = OnlyDiagnostic("network Net input 1x8x8\nQActivation bitz=2");

        Assert.Equal("BNN0011", diagnostic.Id);
        Assert.Equal((1, 12, 4), (diagnostic.Location!.Line, diagnostic.Location.Column, diagnostic.Location.Length));
        Assert.Equal("Layer 1 (QActivation) has no option 'bitz'; its options are bits (or act_bits, act_bit)", diagnostic.Message);

        var noOptions = OnlyDiagnostic("network Net input 1x8x8\nReLU\nFlatten size=2");
        Assert.Equal((2, 8), (noOptions.Location!.Line, noOptions.Location.Column));
        Assert.Equal("Layer 2 (Flatten) has no option 'size'; its options are none (it takes no options)", noOptions.Message);

        var convolution = OnlyDiagnostic("network Net input 1x8x8\nQConvolution filters=8 kernel=3 Filters=8");
        Assert.EndsWith("its options are filters, kernel, stride, pad, padding, weight_bits (or weight_bit), act_bits (or act_bit)", convolution.Message);
    }

    [Theory]
    [InlineData("QActivation bits=1 bits=1", 19, "bits", "bits", "bits")]
    [InlineData("QActivation act_bit=1 bits=2", 22, "bits", "act_bit", "bits")]
    [InlineData("QConvolution filters=8 kernel=3 weight_bits=1 weight_bit=1", 46, "weight_bits", "weight_bits", "weight_bit")]
    public void Bnn0012DuplicateOption(string layerLine, int column, string option, string first, string second)
    {
        var diagnostic = OnlyDiagnostic("network Net input 1x8x8\n" + layerLine);

        Assert.Equal("BNN0012", diagnostic.Id);
        Assert.Equal((1, column), (diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.Contains($"sets option '{option}' twice ('{first}' and '{second}'); keep one", diagnostic.Message);
    }

    [Fact]
    public void Bnn0013MissingRequiredOption()
    {
        var diagnostic = OnlyDiagnostic("network Net input 1x8x8\nReLU\n MaxPool stride=2");

        Assert.Equal("BNN0013", diagnostic.Id);
        Assert.Equal((2, 1), (diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.Equal("Layer 2 (MaxPool) needs option 'size'; add size=<positive integer>", diagnostic.Message);

        var (_, both) = BnnTextParser.Parse("network Net input 1x8x8\nConvolution", "net.bnn");
        Assert.Equal(["filters", "kernel"], both.Select(d => d.Arguments[2]));
    }

    [Theory]
    [InlineData("QConvolution filters=six kernel=3", 21, "filters of layer 1 (QConvolution) is 'six'; use an integer")]
    [InlineData("QConvolution filters=8 kernel=3.5", 30, "kernel of layer 1 (QConvolution) is '3.5'; use an integer")]
    [InlineData("QConvolution filters=8 kernel=3 padding=two", 40, "padding of layer 1 (QConvolution) is 'two'; use one or zero")]
    [InlineData("QConvolution kernel=3 filters=", 30, "filters of layer 1 (QConvolution) is ''; use an integer")]
    [InlineData("QActivation act_bit=99999999999", 20, "act_bit of layer 1 (QActivation) is '99999999999'; use an integer")]
    [InlineData("Convolution filters=8 kernel=3 stride=-1", 31, "Stride of layer 1 (Convolution) is -1; use a positive integer")]
    public void Bnn0006InvalidOptionValue(string layerLine, int column, string message)
    {
        var diagnostic = OnlyDiagnostic("network Net input 1x8x8\n" + layerLine);

        Assert.Equal("BNN0006", diagnostic.Id);
        Assert.Equal(1, diagnostic.Location!.Line);
        Assert.Equal(message.StartsWith("Stride", StringComparison.Ordinal) ? 0 : column, diagnostic.Location.Column);
        Assert.Equal(message, diagnostic.Message);
    }

    [Fact]
    public void Bnn0001BitWidthOnTheLayerLine()
    {
        var diagnostic = OnlyDiagnostic("network Net input 1x8x8\nReLU\n  QActivation bits=40");

        Assert.Equal("BNN0001", diagnostic.Id);
        Assert.Equal((2, 2), (diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.Equal("Bits of layer 2 (QActivation) is 40; use a width from 1 to 32", diagnostic.Message);
    }

    [Theory]
    [InlineData("network Net\nReLU")]
    [InlineData("network Net input 0x28x28\nReLU")]
    public void Bnn0002InputShapeOnTheHeader(string text)
    {
        var diagnostic = OnlyDiagnostic("# header below\n" + text);

        Assert.Equal("BNN0002", diagnostic.Id);
        Assert.Equal((1, 0), (diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.EndsWith("or 'network Net input 1x28x28'", diagnostic.Message);
    }

    [Fact]
    public void Bnn0003EmptyNetwork()
    {
        var (network, diagnostics) = BnnTextParser.Parse("network Empty input 1x8x8   # no layers\n# none\n", "net.bnn");

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("BNN0003", diagnostic.Id);
        Assert.Equal((0, 0), (diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.NotNull(network);
    }

    [Theory]
    [InlineData("network Net input 1x4x4\nReLU\n  Convolution filters=2 kernel=5", "BNN0004")]
    [InlineData("network Net input 1x4x4\nReLU\n  FullyConnected units=2", "BNN0005")]
    [InlineData("network Net input 1x4x4\nFlatten\n  MaxPool size=2", "BNN0007")]
    public void ShapeErrorsPointAtTheLayerLine(string text, string id)
    {
        var (network, diagnostics) = BnnTextParser.Parse(text, "shapes.bnn");

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal("shapes.bnn(3,3)", diagnostic.Location!.ToString());
        Assert.NotNull(network);
        Assert.False(network.Output.IsKnown);
    }

    [Fact]
    public void EveryProblemIsReportedInOnePass()
    {
        var (network, diagnostics) = BnnTextParser.Parse(
            "network Net input 1x8x8\nQConv filters=2\nQActivation bits=x\nMaxPool\nReLU stride=1\n", "net.bnn");

        Assert.Null(network);
        Assert.Equal([("BNN0010", 1), ("BNN0006", 2), ("BNN0013", 3), ("BNN0011", 4)], diagnostics.Select(d => (d.Id, d.Location!.Line)));
    }

    [Fact]
    public void NullArgumentsThrow()
    {
        Assert.Throws<ArgumentNullException>(() => BnnTextParser.Parse(null!, "net.bnn"));
        Assert.Throws<ArgumentNullException>(() => BnnTextParser.Parse("", null!));
    }
}

public class BnnTextDocumentationTests
{
    private static string Documentation()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
            directory = directory.Parent ?? throw new InvalidOperationException("BnnDsl.sln not found above the test binaries");
        return File.ReadAllText(Path.Combine(directory.FullName, "docs", "dsl.md"));
    }

    [Fact]
    public void ExamplesInTheDocsParse()
    {
        var blocks = Documentation().Split("```bnn").Skip(1).Select(b => b.Substring(0, b.IndexOf("```", StringComparison.Ordinal))).ToList();

        Assert.Equal(4, blocks.Count);
        foreach (var block in blocks)
            Assert.Empty(BnnTextParser.Parse(block, "dsl.md").Diagnostics);
        var family = BnnText.Parse(blocks[0], "dsl.md");
        Assert.Equal(["SmallConv", "SmallConvW2A2", "SmallConvLarge"], family.Networks.Select(n => n.Name));
        Assert.All(family.Networks, n => Assert.Equal(TensorShape.Vector(10), n.Network!.Output));
        Assert.Equal(TensorShape.Vector(10), BnnTextParser.Parse(blocks[1], "dsl.md").Network!.Output);
        Assert.Equal(TensorShape.Vector(10), BnnTextParser.Parse(blocks[2], "dsl.md").Network!.Output);
    }

    [Fact]
    public void EveryDiagnosticIsDocumented()
    {
        var documentation = Documentation();

        Assert.All(BnnDiagnostics.All, d => Assert.Contains($"| {d.Id} | {d.Title} |", documentation));
    }
}
