// The generated packed inference class: LeNet gets one whose plan is the dsl planner's and whose steps map back to
// their declarations; residual networks get one too; a network the planner refuses (a 16-bit activation) gets none,
// with the info note BNN0100 at its declaration.
using BnnDsl.Deployment;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BnnDsl.Generator.Tests;

public class PackedGeneratorTests
{
    [Fact]
    public void LeNetGetsAPackedClassRunningThePlannersPlan()
    {
        var (result, output) = GeneratorHarness.Run(GeneratedNetworkTests.LeNetSource);
        Assert.Empty(result.Diagnostics);
        var type = GeneratorHarness.Load(output).GetType("Samples.LeNet")!;
        var packed = type.GetNestedType("Packed")!;
        Assert.Equal("PackedNetwork", packed.BaseType!.Name);
        var spec = (NetworkSpec)type.GetProperty("Spec")!.GetValue(null)!;
        Assert.Equal(PackedPlan.Text(PackedPlan.Plan(spec)), (string)packed.GetField("Plan")!.GetValue(null)!);

        // One PackedOps call per step, each at the line of the layer the step runs (line n + 4 holds layer n).
        var tree = Assert.Single(result.GeneratedSources).SyntaxTree;
        var calls = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(call => call.Expression.ToString().Contains("PackedOps.", StringComparison.Ordinal))
            .Select(call => tree.GetMappedLineSpan(call.Span).StartLinePosition.Line)
            .ToList();
        // conv1 (layer 1), qconv1 (5), maxpool2 (7), qfc1 (10), fc1 (13)
        Assert.Equal([5, 9, 11, 14, 17], calls);
    }

    private const string SixteenBitSource = """
        using BnnDsl;

        namespace Samples;

        [Network(1, 8, 8)]
        [Convolution(8, 3)]
        [QActivation(16)]
        [Flatten]
        [FullyConnected(3)]
        [SoftmaxCrossEntropy]
        public partial class Wide;
        """;

    [Fact]
    public void ANetworkThePlannerRefusesGetsNoPackedClassAndAnInfoNote()
    {
        var (result, output) = GeneratorHarness.Run(SixteenBitSource);
        var note = Assert.Single(result.Diagnostics);
        Assert.Equal(("BNN0100", DiagnosticSeverity.Info), (note.Id, note.Severity));
        Assert.Contains("'Wide'", note.GetMessage());
        Assert.Contains("16 bits", note.GetMessage());
        var span = note.Location.GetLineSpan();
        Assert.Equal((GeneratorHarness.FileName, 4), (span.Path, span.StartLinePosition.Line));
        Assert.Null(GeneratorHarness.Load(output).GetType("Samples.Wide")!.GetNestedType("Packed"));
    }

    [Fact]
    public void AResidualNetworkGetsAPackedClassWhoseAddsReadTheirShortcuts()
    {
        var (result, output) = GeneratorHarness.Run(ResidualGeneratorTests.Source);
        Assert.Empty(result.Diagnostics);
        var type = GeneratorHarness.Load(output).GetType("Samples.Res")!;
        var spec = (NetworkSpec)type.GetProperty("Spec")!.GetValue(null)!;
        var packed = type.GetNestedType("Packed")!;
        Assert.Equal(PackedPlan.Text(PackedPlan.Plan(spec)), (string)packed.GetField("Plan")!.GetValue(null)!);
        string code = Assert.Single(result.GeneratedSources).SourceText.ToString();
        Assert.Equal(PackedPlan.Plan(spec).Count(s => s.Op == PlanOp.Add), System.Text.RegularExpressions.Regex.Matches(code, @"PackedOps\.Add\(").Count);
    }
}
