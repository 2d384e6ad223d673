// Parameters, conditionals and variants of the .bnn form: substitution, branch selection, one network per variant,
// caller overrides, and one diagnostic at the right place for each mistake (BNN0018..BNN0023).
namespace BnnDsl.Dsl.Tests;

public class ParameterTests
{
    private static string Kinds(NetworkSpec network) => string.Join(" ", network.Layers.Select(l => l.Kind));

    private static BnnTextResult Succeeds(string text, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var result = BnnText.Parse(text, "net.bnn", overrides);
        Assert.Empty(result.Diagnostics);
        Assert.All(result.Networks, n => Assert.True(n.Succeeded));
        return result;
    }

    [Fact]
    public void ReferencesTakeTheParameterValues()
    {
        var network = Succeeds("""
            param bits = 2
            param shape=1x8x8
            param filters = 6
            network Net input $shape
            QActivation bits=$bits
            QConvolution filters=$filters kernel=3 weight_bits=$bits act_bits=$bits
            """).GetNetworkOrThrow();

        Assert.Equal(TensorShape.Image(1, 8, 8), network.Input);
        Assert.Equal(2, network.Layers[0].ActivationBits);
        Assert.Equal((6, 2, 2), (network.Layers[1].Units, network.Layers[1].WeightBits, network.Layers[1].ActivationBits));
        Assert.Equal(TensorShape.Image(6, 6, 6), network.Output);
    }

    [Fact]
    public void ConditionalsSelectTheirBranchAndNest()
    {
        const string Text = """
            param stem = small
            param depth = 1
            network Net input 1x8x8
            if stem == large
              MaxPool size=2
            else
              if depth != 1; ReLU; ReLU; else; BatchNorm; endif
            endif
            repeat 2
              residual; ReLU; if $depth == 2; ReLU; endif; end
            end
            Flatten
            """;

        Assert.Equal("BatchNorm Residual ReLU EndResidual Residual ReLU EndResidual Flatten", Kinds(Succeeds(Text).GetNetworkOrThrow()));
        Assert.Equal("MaxPool Residual ReLU ReLU EndResidual Residual ReLU ReLU EndResidual Flatten",
            Kinds(Succeeds(Text, new Dictionary<string, string> { ["stem"] = "large", ["depth"] = "2" }).GetNetworkOrThrow()));
        Assert.Equal("ReLU ReLU Residual ReLU EndResidual Residual ReLU EndResidual Flatten",
            Kinds(Succeeds(Text, new Dictionary<string, string> { ["depth"] = "+3" }).GetNetworkOrThrow()));
    }

    [Fact]
    public void EachVariantIsOneMoreNetworkWithItsSettings()
    {
        var result = Succeeds("""
            param bits = 1
            param classes = 10
            variant NetW2A2 bits=2
            variant Wide classes=20 bits=4
            network Net input 1x8x8
            QActivation bits=$bits
            Flatten
            FullyConnected units=$classes
            """);

        Assert.Equal(["Net", "NetW2A2", "Wide"], result.Networks.Select(n => n.Name));
        Assert.Equal(["Net", "NetW2A2", "Wide"], result.Networks.Select(n => n.Network!.Name));
        Assert.Equal([1, 2, 4], result.Networks.Select(n => n.Network!.Layers[0].ActivationBits));
        Assert.Equal(TensorShape.Vector(20), result.GetNetworkOrThrow("Wide").Output);
        Assert.Equal(["bits=1", "classes=10"], result.Parameters.Select(p => p.Name + "=" + p.Value));
        Assert.Equal(["bits=4", "classes=20"], result.Networks[2].Settings.Select(p => p.Name + "=" + p.Value));
        // A variant's network is declared by its variant line; the layers keep the lines they were written on.
        Assert.Equal((3, 0), (result.Networks[2].Network!.Location!.Line, result.Networks[2].Network!.Location!.Column));
        Assert.Equal(4, result.Networks[0].Network!.Location!.Line);
        Assert.Equal(5, result.Networks[2].Network!.Layers[0].Location!.Line);
        Assert.Equal(2, result.Networks[1].Settings[0].Location!.Line);
    }

    [Fact]
    public void OverridesReplaceTheDefaultsAndVariantsStillApply()
    {
        const string Text = "param bits = 1\nparam stem = cifar\nvariant Net8 bits=8\nnetwork Net input 1x8x8\nQActivation bits=$bits";
        var result = Succeeds(Text, new Dictionary<string, string> { ["bits"] = "4" });

        Assert.Equal([4, 8], result.Networks.Select(n => n.Network!.Layers[0].ActivationBits));
        Assert.Null(result.Parameters[0].Location);
        Assert.Equal(1, result.Parameters[1].Location!.Line);

        var unknown = Assert.Throws<ArgumentException>(() => BnnText.Parse(Text, "net.bnn", new Dictionary<string, string> { ["bitz"] = "4" }));
        Assert.Equal("overrides", unknown.ParamName);
        Assert.StartsWith("Override 'bitz=4' for net.bnn: the file has no parameter 'bitz'; set one of bits, stem", unknown.Message);
        var kind = Assert.Throws<ArgumentException>(() => BnnText.Parse(Text, "net.bnn", new Dictionary<string, string> { ["bits"] = "four" }));
        Assert.StartsWith("Override 'bits=four' for net.bnn: parameter 'bits' takes an integer like its default '1'", kind.Message);
    }

    [Fact]
    public void GetNetworkOrThrowNamesTheNetworkOrItsProblems()
    {
        var result = BnnText.Parse("param size = 2\nvariant Tiny size=16\nnetwork Net input 1x8x8\nMaxPool size=$size\nMaxPool size=2", "net.bnn");

        Assert.Equal(TensorShape.Image(1, 2, 2), result.GetNetworkOrThrow().Output);
        Assert.True(result.Networks[0].Succeeded);
        Assert.False(result.Networks[1].Succeeded);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(("BNN0004", 3), (diagnostic.Id, diagnostic.Location!.Line));
        var invalid = Assert.Throws<InvalidNetworkException>(() => result.GetNetworkOrThrow("Tiny"));
        Assert.Contains("Network 'Tiny' is invalid", invalid.Message);
        var missing = Assert.Throws<ArgumentException>(() => result.GetNetworkOrThrow("Huge"));
        Assert.StartsWith("The file declares no network 'Huge'; its networks are Net, Tiny", missing.Message);
        Assert.Throws<InvalidNetworkException>(() => BnnText.Parse("param a = 1\nparam a = 2\nnetwork Net input 1x8x8\nReLU", "net.bnn").GetNetworkOrThrow());
    }

    [Fact]
    public void AMistakeSharedByEveryVariantIsReportedOnce()
    {
        var (network, diagnostics) = BnnTextParser.Parse("param bits = 1\nvariant A bits=2\nvariant B bits=4\nnetwork Net input 1x8x8\nQConv", "net.bnn");

        Assert.Null(network);
        Assert.Equal("BNN0010", Assert.Single(diagnostics).Id);
    }

    [Fact]
    public void ASubstitutedValueIsReportedAtItsReference()
    {
        var diagnostic = Assert.Single(BnnText.Parse("param kind = wide\nnetwork Net input 1x8x8\nConvolution filters=$kind kernel=3", "net.bnn").Diagnostics);

        Assert.Equal("BNN0006", diagnostic.Id);
        Assert.Equal((2, 20, 5), (diagnostic.Location!.Line, diagnostic.Location.Column, diagnostic.Location.Length));
        Assert.StartsWith("filters of layer 1 (Convolution) is 'wide'; use an integer", diagnostic.Message);
    }

    [Theory]
    // BNN0018: a reference or condition naming no parameter, in a branch that is read or not.
    [InlineData("network Net input 1x8x8\nReLU\nMaxPool size=$sise", "BNN0018", 2, 13, "'$sise' names no parameter; declare it above the network header with 'param sise = VALUE', or use one of the parameters: size")]
    [InlineData("network Net input $shape\nReLU", "BNN0018", 0, 18, "'$shape' names no parameter")]
    [InlineData("network Net input 1x8x8\nif stem == big\nReLU\nendif", "BNN0018", 1, 3, "'stem' names no parameter")]
    [InlineData("network Net input 1x8x8\nif size == 1\nReLU $nothing\nendif", "BNN0018", 2, 5, "'$nothing' names no parameter")]
    // BNN0019: a parameter declared twice.
    [InlineData("param size = 3\nnetwork Net input 1x8x8\nReLU", "BNN0019", 0, 6, "Parameter 'size' is declared twice, on lines 1 and 2; keep one declaration")]
    // BNN0020: a variant setting no declared parameter.
    [InlineData("variant Big sise=4\nnetwork Net input 1x8x8\nReLU", "BNN0020", 0, 12, "Variant 'Big' sets 'sise', which is not a parameter; set one of size")]
    // BNN0021: a value that is neither an integer nor a word, or of the other kind.
    [InlineData("param scale = 1.5\nnetwork Net input 1x8x8\nReLU", "BNN0021", 0, 14, "The value '1.5' of parameter 'scale' is neither an integer nor a word")]
    [InlineData("variant Big size=four\nnetwork Net input 1x8x8\nReLU", "BNN0021", 0, 17, "Variant 'Big' sets 'size' to 'four', but the parameter takes an integer like its default '2'")]
    [InlineData("network Net input 1x8x8\nif size == two\nReLU\nendif", "BNN0021", 1, 11, "'two' is compared with parameter 'size', which takes an integer")]
    // BNN0022: if/else/endif that do not pair up, and blocks crossing a branch.
    [InlineData("network Net input 1x8x8\nif size == 2\nReLU", "BNN0022", 1, 0, "The 'if' on line 3 is never closed")]
    [InlineData("network Net input 1x8x8\nReLU\nendif", "BNN0022", 2, 0, "'endif' without an open 'if'")]
    [InlineData("network Net input 1x8x8\nReLU\nelse", "BNN0022", 2, 0, "'else' without an open 'if'")]
    [InlineData("network Net input 1x8x8\nif size == 2\nReLU\nelse\nelse\nendif", "BNN0022", 4, 0, "A second 'else' for the 'if' on line 3")]
    [InlineData("network Net input 1x8x8\nif size == 2\nresidual; ReLU\nendif\nend", "BNN0022", 3, 0, "The 'residual' on line 4 is not closed before 'endif'")]
    [InlineData("network Net input 1x8x8\nresidual\nif size == 3\nReLU; end\nendif\nend", "BNN0022", 3, 6, "This 'end' would close the 'residual' on line 3, outside the 'if' on line 4")]
    // BNN0023: two networks of the file with one name.
    [InlineData("variant net size=4\nnetwork Net input 1x8x8\nReLU", "BNN0023", 0, 8, "Variant 'net' has the name of the network header on line 3")]
    [InlineData("variant Big size=4\nvariant BIG size=8\nnetwork Net input 1x8x8\nReLU", "BNN0023", 1, 8, "Variant 'BIG' has the name of the variant on line 2")]
    // BNN0009: malformed param, variant, condition and references.
    [InlineData("param size 4\nnetwork Net input 1x8x8\nReLU", "BNN0009", 0, 6, "Malformed parameter declaration")]
    [InlineData("variant\nnetwork Net input 1x8x8\nReLU", "BNN0009", 0, 0, "'variant' has no name")]
    [InlineData("variant class size=4\nnetwork Net input 1x8x8\nReLU", "BNN0009", 0, 8, "'class' is a C# keyword")]
    [InlineData("variant Big size=4 size=5\nnetwork Net input 1x8x8\nReLU", "BNN0009", 0, 19, "Variant 'Big' sets 'size' twice")]
    [InlineData("network Net input 1x8x8\nif size=2\nendif", "BNN0009", 1, 3, "Malformed condition")]
    [InlineData("network Net input 1x8x8\nMaxPool size=x$size", "BNN0009", 1, 14, "'size=x$size' has a '$' inside a value")]
    [InlineData("network Net input 1x8x8\nparam other = 1\nReLU", "BNN0009", 1, 0, "'param' comes after the 'network' header")]
    public void EachMistakeIsOneDiagnosticAtItsPlace(string text, string id, int line, int column, string message)
    {
        var (_, diagnostics) = BnnTextParser.Parse("param size = 2\n" + text, "net.bnn");

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal((id, line + 1, column), (diagnostic.Id, diagnostic.Location!.Line, diagnostic.Location.Column));
        Assert.Equal("net.bnn", diagnostic.Location.FilePath);
        Assert.StartsWith(message, diagnostic.Message);
    }

    [Fact]
    public void AFileWithoutParametersReadsAsBefore()
    {
        const string Text = "network Net input 1x8x8\nReLU\nFlatten";
        var result = Succeeds(Text);

        Assert.Empty(result.Parameters);
        Assert.Equal(BnnTextParser.Parse(Text, "net.bnn").Network, Assert.Single(result.Networks).Network);
        Assert.Throws<ArgumentNullException>(() => BnnText.Parse(null!, "net.bnn"));
        Assert.Throws<ArgumentNullException>(() => BnnText.Parse("", null!));
    }

    [Fact]
    public void LoadReadsTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bnn-params-{Environment.ProcessId}.bnn");
        File.WriteAllText(path, "param units = 3\nnetwork Net input 1x8x8\nFlatten\nFullyConnected units=$units");
        try
        {
            var network = BnnText.Load(path, new Dictionary<string, string> { ["units"] = "5" }).GetNetworkOrThrow();
            Assert.Equal(TensorShape.Vector(5), network.Output);
            Assert.Equal(path, network.Location!.FilePath);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string ResNet18Path()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
            directory = directory.Parent ?? throw new InvalidOperationException("BnnDsl.sln not found above the test binaries");
        return Path.Combine(directory.FullName, "examples", "ResNet18", "resnet18.bnn");
    }

    // The 3x3 convolutions of the four stages and the quantizer in front of each.
    private static void AssertStageBits(NetworkSpec network, int bits)
    {
        var stage = network.Layers.Select((layer, i) => (layer, i)).Where(p => p.layer.Kind == LayerKind.QConvolution && p.layer.Kernel == 3).ToList();
        Assert.Equal(16, stage.Count);
        Assert.All(stage, p => Assert.Equal((bits, bits), (p.layer.WeightBits, p.layer.ActivationBits)));
        Assert.All(stage, p => Assert.Equal((LayerKind.QActivation, bits), (network.Layers[p.i - 1].Kind, network.Layers[p.i - 1].ActivationBits)));
        Assert.Equal(16, network.Layers.Count(l => l.Kind == LayerKind.Residual));
        Assert.Equal(3, network.Layers.Count(l => l.Kind == LayerKind.Shortcut));
    }

    [Fact]
    public void ResNet18FileDeclaresItsBitWidthsShortcutAndImageNetVariants()
    {
        string path = ResNet18Path();
        var result = BnnText.Load(path);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["ResNet18", "ResNet18W2A2", "ResNet18W4A4", "ResNet18W8A8", "ResNet18BinaryShortcut", "ResNet18ImageNet"],
            result.Networks.Select(n => n.Name));
        var resnet = result.GetNetworkOrThrow();
        foreach (var (name, bits) in new[] { ("ResNet18", 1), ("ResNet18W2A2", 2), ("ResNet18W4A4", 4), ("ResNet18W8A8", 8) })
        {
            var network = result.GetNetworkOrThrow(name);
            AssertStageBits(network, bits);
            Assert.Equal(resnet.Layers.Count, network.Layers.Count);
            Assert.Equal(TensorShape.Image(3, 32, 32), network.Input);
            Assert.Equal(TensorShape.Image(512, 4, 4), network.Layers.Single(l => l.Kind == LayerKind.GlobalAvgPool).InputShape);
            Assert.Equal(TensorShape.Vector(10), network.Output);
        }
        // CIFAR stem: one 3x3 float convolution, no pooling; float 1x1 convolutions in the downsampling shortcuts.
        Assert.Equal((LayerKind.Convolution, 3, 1, TensorShape.Image(64, 32, 32)), (resnet.Layers[0].Kind, resnet.Layers[0].Kernel, resnet.Layers[0].Stride, resnet.Layers[0].OutputShape));
        Assert.DoesNotContain(resnet.Layers, l => l.Kind == LayerKind.MaxPool);
        Assert.Equal(3, resnet.Layers.Count(l => l.Kind == LayerKind.Convolution && l.Kernel == 1));

        var binary = result.GetNetworkOrThrow("ResNet18BinaryShortcut");
        AssertStageBits(binary, 1);
        Assert.Equal(resnet.Layers.Count + 3, binary.Layers.Count);
        Assert.Equal(1, binary.Layers.Count(l => l.Kind == LayerKind.Convolution));
        var downsampling = binary.Layers.Select((layer, i) => (layer, i)).Where(p => p.layer.Kind == LayerKind.QConvolution && p.layer.Kernel == 1).ToList();
        Assert.Equal([128, 256, 512], downsampling.Select(p => p.layer.Units));
        Assert.All(downsampling, p => Assert.Equal((1, 1, LayerKind.QActivation), (p.layer.WeightBits, p.layer.ActivationBits, binary.Layers[p.i - 1].Kind)));

        var imagenet = result.GetNetworkOrThrow("ResNet18ImageNet");
        AssertStageBits(imagenet, 1);
        Assert.Equal(TensorShape.Image(3, 224, 224), imagenet.Input);
        Assert.Equal((7, 2, 3, TensorShape.Image(64, 112, 112)), (imagenet.Layers[0].Kernel, imagenet.Layers[0].Stride, imagenet.Layers[0].Pad, imagenet.Layers[0].OutputShape));
        Assert.Equal((LayerKind.MaxPool, 2, 2, TensorShape.Image(64, 56, 56)), (imagenet.Layers[2].Kind, imagenet.Layers[2].Kernel, imagenet.Layers[2].Stride, imagenet.Layers[2].OutputShape));
        Assert.Equal(TensorShape.Image(512, 7, 7), imagenet.Layers.Single(l => l.Kind == LayerKind.GlobalAvgPool).InputShape);
        Assert.Equal(TensorShape.Vector(1000), imagenet.Output);
    }

    [Fact]
    public void ResNet18LoadsAtRunTimeWithAnyBitWidth()
    {
        var result = BnnText.Load(ResNet18Path(), new Dictionary<string, string> { ["bits"] = "3", ["classes"] = "100" });

        AssertStageBits(result.GetNetworkOrThrow(), 3);
        Assert.Equal(TensorShape.Vector(100), result.GetNetworkOrThrow().Output);
        AssertStageBits(result.GetNetworkOrThrow("ResNet18W8A8"), 8);
        AssertStageBits(result.GetNetworkOrThrow("ResNet18ImageNet"), 3);
        Assert.Equal(TensorShape.Vector(1000), result.GetNetworkOrThrow("ResNet18ImageNet").Output);
    }
}
