// The generator on residual blocks and repeats: the code compiles, each statement maps back to its attribute, and
// unbalanced or mismatched blocks are reported at the right attribute.
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BnnDsl.Generator.Tests;

public class ResidualGeneratorTests
{
    public const string Source = """
        using BnnDsl;

        namespace Samples;

        [Network(3, 8, 8)]
        [Convolution(8, 3, Pad = 1)]
        [Repeat(2)]
        [Residual]
        [QActivation(1)]
        [QConvolution(8, 3, Pad = 1)]
        [BatchNorm]
        [EndResidual]
        [EndRepeat]
        [Residual]
        [QActivation(1)]
        [QConvolution(16, 3, Stride = 2, Pad = 1)]
        [BatchNorm]
        [Shortcut]
        [AvgPool(2)]
        [Convolution(16, 1)]
        [EndResidual]
        [GlobalAvgPool]
        [FullyConnected(3)]
        [SoftmaxCrossEntropy]
        public partial class Res;
        """;

    [Fact]
    public void ResidualNetworkCompilesWithRepeatsExpanded()
    {
        var (result, output) = GeneratorHarness.Run(Source);

        // Residual networks get a Packed class whose adds read the block input's step: no note.
        Assert.Empty(result.Diagnostics);
        var type = GeneratorHarness.Load(output).GetType("Samples.Res")!;
        Assert.NotNull(type.GetNestedType("Packed"));
        var spec = (NetworkSpec)type.GetProperty("Spec")!.GetValue(null)!;
        Assert.Equal(
            "Convolution Residual QActivation QConvolution BatchNorm EndResidual Residual QActivation QConvolution BatchNorm EndResidual "
            + "Residual QActivation QConvolution BatchNorm Shortcut AvgPool Convolution EndResidual GlobalAvgPool FullyConnected SoftmaxCrossEntropy",
            string.Join(" ", spec.Layers.Select(l => l.Kind)));
        // The copies of a repeat keep the attribute lines they were written on.
        Assert.Equal(spec.Layers[2].Location, spec.Layers[7].Location);
        var summary = (string)type.GetMethod("Summary")!.Invoke(null, null)!;
        Assert.Contains("+ shortcut", summary);
        Assert.Contains("  QConvolution", summary);
    }

    [Fact]
    public void ResNet18TextFileGeneratesCodeThatCompiles()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(System.IO.Path.Combine(directory.FullName, "BnnDsl.sln")))
            directory = directory.Parent ?? throw new InvalidOperationException("BnnDsl.sln not found above the test binaries");
        string path = System.IO.Path.Combine(directory.FullName, "examples", "ResNet18", "resnet18.bnn");
        string text = File.ReadAllText(path);

        var driver = TextNetworkTests.Driver("Samples", new TextNetworkTests.InMemoryText(path, text))
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compile("class Other { }"), out var output, out _);

        var result = Assert.Single(driver.GetRunResult().Results);
        // Every variant (binary, k-bit, binary shortcut) gets a Packed class: no diagnostics at all.
        Assert.Empty(result.Diagnostics);
        var assembly = GeneratorHarness.Load(output);
        var file = BnnText.Parse(text, path);
        Assert.Equal(6, file.Networks.Count);
        Assert.Equal(file.Networks.Select(n => $"Samples.{n.Name}.g.cs").Order(), result.GeneratedSources.Select(s => s.HintName).Order());
        foreach (var network in file.Networks)
        {
            var type = assembly.GetType("Samples." + network.Name)!;
            Assert.Equal(network.Network, (NetworkSpec)type.GetProperty("Spec")!.GetValue(null)!);
            Assert.NotNull(type.GetNestedType("Packed"));
            // One add per binary convolution block, in the forward pass and in its float reference.
            var source = result.GeneratedSources.Single(s => s.HintName == $"Samples.{network.Name}.g.cs").SourceText.ToString();
            Assert.Equal(2 * 16, System.Text.RegularExpressions.Regex.Matches(source, @"add\d+\.Forward\(").Count);
        }
        Assert.Equal(BnnTextParser.Parse(text, path).Network, file.Networks[0].Network);
    }

    [Fact]
    public void BlockStatementsMapBackToTheirAttributes()
    {
        var (result, _) = GeneratorHarness.Run(Source);
        var generated = Assert.Single(result.GeneratedSources);
        string text = generated.SourceText.ToString();
        // Forward: the shortcut path reads the block input; the add joins both paths.
        Assert.Contains("avgpool1.Forward(a11, a17, training);", text);
        Assert.Contains("add3.Forward(a15, a18, a19);", text);
        Assert.Contains("add1.Forward(a5, a1, a6);", text);
        // Backward: one path's gradient is written into the block input's, the other's is summed into it.
        Assert.Contains("add1.Pass(d6, d1);", text);
        Assert.Contains("qact1.Backward(a1, a3, d3, g3);", text);
        Assert.Contains("add1.Accumulate(d1, g3);", text);

        var tree = generated.SyntaxTree;
        var lines = Source.Split('\n');
        foreach (var call in tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            string name = call.Expression.ToString();
            if (!name.EndsWith(".Forward", StringComparison.Ordinal) && !name.EndsWith(".Backward", StringComparison.Ordinal)
                && !name.EndsWith(".Pass", StringComparison.Ordinal) && !name.EndsWith(".Accumulate", StringComparison.Ordinal))
                continue;
            var span = tree.GetMappedLineSpan(call.Span);
            Assert.True(span.HasMappedPath, name);
            if (name.EndsWith(".Accumulate", StringComparison.Ordinal))
                continue; // a path's gradient is summed at the line of the layer that sent it
            string attribute = lines[span.StartLinePosition.Line];
            string expected = name.Split('.')[0].TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') switch
            {
                "add" => "[EndResidual]",
                "qact" => "[QActivation(1)]",
                "qconv" => "[QConvolution",
                "bn" => "[BatchNorm]",
                "conv" => "[Convolution",
                "avgpool" => "[AvgPool",
                "gap" => "[GlobalAvgPool]",
                _ => "[FullyConnected",
            };
            Assert.StartsWith(expected, attribute);
        }
    }

    [Theory]
    [InlineData("BNN0016", 5, "[Residual]\n[QConvolution(16, 3, Stride = 2, Pad = 1)]\n[BatchNorm]\n[EndResidual]")]
    [InlineData("BNN0016", 6, "[Residual]\n[QConvolution(16, 3, Pad = 1)]\n[Shortcut]\n[Convolution(8, 1)]\n[EndResidual]")]
    [InlineData("BNN0017", 2, "[EndResidual]")]
    [InlineData("BNN0017", 3, "[ReLU]\n[Shortcut]")]
    [InlineData("BNN0017", 2, "[Residual]\n[ReLU]")]
    [InlineData("BNN0017", 4, "[Residual]\n[Shortcut]\n[Shortcut]\n[EndResidual]")]
    [InlineData("BNN0017", 2, "[Repeat(0)]\n[ReLU]\n[EndRepeat]")]
    [InlineData("BNN0017", 3, "[ReLU]\n[EndRepeat]")]
    [InlineData("BNN0017", 2, "[Repeat(2)]\n[ReLU]")]
    public void BlockDiagnosticIsReportedAtItsAttribute(string id, int line, string layers)
    {
        var (result, output) = GeneratorHarness.Run($"using BnnDsl;\n[Network(8, 16, 16)]\n{layers}\npublic partial class Net;");

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(line, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Empty(result.GeneratedSources);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Bnn0016NamesBothShapes()
    {
        var (result, _) = GeneratorHarness.Run("using BnnDsl;\n[Network(8, 16, 16)]\n[Residual]\n[QConvolution(16, 3, Stride = 2, Pad = 1)]\n[EndResidual]\npublic partial class Net;");

        string message = Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("the main path gives 16x8x8 but the shortcut gives 8x16x16", message);
        Assert.Contains("AvgPool", message);
    }
}
