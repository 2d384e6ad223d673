// The generated packed inference class: LeNet gets one whose plan is the dsl planner's and whose steps map back to
// their declarations; a network the planner refuses gets none, with the info note BNN0100 at its declaration.
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

    [Fact]
    public void ANetworkThePlannerRefusesGetsNoPackedClassAndAnInfoNote()
    {
        var (result, output) = GeneratorHarness.Run(ResidualGeneratorTests.Source);
        var note = Assert.Single(result.Diagnostics);
        Assert.Equal(("BNN0100", DiagnosticSeverity.Info), (note.Id, note.Severity));
        Assert.Contains("'Res'", note.GetMessage());
        Assert.Contains("residual block", note.GetMessage());
        var span = note.Location.GetLineSpan();
        Assert.Equal((GeneratorHarness.FileName, 4), (span.Path, span.StartLinePosition.Line));
        Assert.Null(GeneratorHarness.Load(output).GetType("Samples.Res")!.GetNestedType("Packed"));
    }
}
