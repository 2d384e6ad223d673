// The generator on the binary LeNet: the generated Spec equals the dsl's inference, compiles, and Summary() runs.
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace BnnDsl.Generator.Tests;

public class GeneratedNetworkTests
{
    public const string LeNetSource = """
        using BnnDsl;

        namespace Samples;

        [Network(1, 28, 28)]
        [Convolution(64, 5)]
        [BatchNorm]
        [MaxPool(2)]
        [QActivation(1)]
        [QConvolution(64, 5)]
        [BatchNorm]
        [MaxPool(2)]
        [QActivation(1)]
        [Flatten]
        [QFullyConnected(512)]
        [BatchNorm]
        [QActivation(1)]
        [FullyConnected(10)]
        [SoftmaxCrossEntropy]
        public partial class LeNet;
        """;

    private static NetworkSpec ExpectedLeNet() => ShapeInference.Infer(new NetworkSpec("LeNet", TensorShape.Image(1, 28, 28),
        new EquatableArray<LayerSpec>(new LayerAttribute[]
        {
            new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
            new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
            new FlattenAttribute(), new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1),
            new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute(),
        }.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();

    private static NetworkSpec WithoutLocations(NetworkSpec spec) => spec with
    {
        Location = null,
        Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l with { Location = null })),
    };

    [Fact]
    public void LeNetSpecIsGeneratedCompilesAndRuns()
    {
        var (result, output) = GeneratorHarness.Run(LeNetSource);

        Assert.Empty(result.Diagnostics);
        var generated = Assert.Single(result.GeneratedSources);
        Assert.Equal("Samples.LeNet.g.cs", generated.HintName);
        var type = GeneratorHarness.Load(output).GetType("Samples.LeNet")!;
        var spec = (NetworkSpec)type.GetProperty("Spec")!.GetValue(null)!;
        Assert.Equal(ExpectedLeNet(), WithoutLocations(spec));
        var summary = (string)type.GetMethod("Summary")!.Invoke(null, null)!;
        Assert.Contains("Model size: 115,752 bytes packed", summary);
    }

    [Fact]
    public void LocationsPointAtTheDeclaringAttributes()
    {
        var (result, output) = GeneratorHarness.Run(LeNetSource);

        var spec = (NetworkSpec)GeneratorHarness.Load(output).GetType("Samples.LeNet")!.GetProperty("Spec")!.GetValue(null)!;
        Assert.Equal(GeneratorHarness.FileName, spec.Location!.FilePath);
        Assert.Equal((4, 1), (spec.Location.Line, spec.Location.Column));
        Assert.Equal(Enumerable.Range(5, 14), spec.Layers.Select(l => l.Location!.Line));
        var line = LeNetSource.Split('\n')[spec.Layers[4].Location!.Line];
        Assert.Equal("QConvolution(64, 5)", line.Substring(spec.Layers[4].Location!.Column, spec.Layers[4].Location!.Length));
    }

    [Fact]
    public void NetworkInTheGlobalNamespaceWithNamedInputShape()
    {
        var (result, output) = GeneratorHarness.Run("""
            [BnnDsl.Network(InputChannels = 3, InputHeight = 8, InputWidth = 8)]
            [BnnDsl.QConvolution(16, 3, Pad = 1, Padding = BnnDsl.Padding.Zero)]
            [BnnDsl.GlobalAvgPool]
            internal partial class Tiny { }
            """);

        Assert.Equal("Tiny.g.cs", Assert.Single(result.GeneratedSources).HintName);
        var spec = (NetworkSpec)GeneratorHarness.Load(output).GetType("Tiny")!.GetProperty("Spec")!.GetValue(null)!;
        Assert.Equal(TensorShape.Image(3, 8, 8), spec.Input);
        Assert.Equal(new LayerSpec(LayerKind.QConvolution, 16, 3, 1, 1, Padding.Zero, 1, 1), spec.Layers[0] with
        {
            Location = null, InputShape = default, OutputShape = default,
        });
        Assert.Equal(TensorShape.Vector(16), spec.Output);
    }

    [Fact]
    public void CompilerDescriptorsMatchTheDslList()
    {
        Assert.Equal(
            BnnDiagnostics.All.Select(d => (d.Id, d.Title, d.MessageFormat)),
            RoslynDiagnostics.All.OrderBy(d => d.Id).Select(d => (d.Id, d.Title.ToString(), d.MessageFormat.ToString())));
        Assert.All(RoslynDiagnostics.All, d => Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity));
    }

    [Fact]
    public void EveryLayerCallMapsBackToItsAttributeLine()
    {
        var (result, _) = GeneratorHarness.Run(LeNetSource);
        var tree = Assert.Single(result.GeneratedSources).SyntaxTree;
        var calls = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>()
            .Select(call => (Text: call.Expression.ToString(), Span: tree.GetMappedLineSpan(call.Span)))
            .Where(call => call.Text.EndsWith(".Forward", StringComparison.Ordinal) || call.Text.EndsWith(".ForwardReference", StringComparison.Ordinal)
                || call.Text.EndsWith(".Backward", StringComparison.Ordinal))
            .ToList();

        // Layer n of the declaration sits on line n + 4 (zero-based) of LeNetSource; Flatten (9) and the loss head (14) have no call.
        // Each layer has three calls: Forward, its float reference (ForwardReference for the binary layers, an evaluation Forward
        // for the others) and Backward.
        int[] layerNumbers = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13];
        string[] fields = ["conv1", "bn1", "maxpool1", "qact1", "qconv1", "bn2", "maxpool2", "qact2", "qfc1", "bn3", "qact3", "fc1"];
        Assert.Equal(fields.Length * 3, calls.Count);
        for (int i = 0; i < fields.Length; i++)
        {
            bool binary = fields[i] is "qconv1" or "qfc1";
            var layerCalls = calls.Where(c => c.Text.StartsWith(fields[i] + ".", StringComparison.Ordinal)).ToList();
            Assert.Equal(binary ? 1 : 2, layerCalls.Count(c => c.Text == fields[i] + ".Forward"));
            Assert.Equal(binary ? 1 : 0, layerCalls.Count(c => c.Text == fields[i] + ".ForwardReference"));
            Assert.Single(layerCalls, c => c.Text == fields[i] + ".Backward");
            foreach (var span in layerCalls.Select(c => c.Span))
            {
                Assert.True(span.HasMappedPath);
                Assert.Equal(GeneratorHarness.FileName, span.Path);
                Assert.Equal(layerNumbers[i] + 4, span.StartLinePosition.Line);
            }
        }
    }
}
