// A second run on an unchanged (or unrelatedly changed) compilation reuses every pipeline step's output.
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace BnnDsl.Generator.Tests;

public class IncrementalityTests
{
    private static readonly string[] Steps = [TrackingNames.Networks, TrackingNames.Diagnostics, TrackingNames.Targets, TrackingNames.Duplicates, TrackingNames.PackedRefusals];

    [Fact]
    public void UnchangedCompilationIsCached()
    {
        var compilation = GeneratorHarness.Compile(GeneratedNetworkTests.LeNetSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.Clone());

        AssertAllCachedOrUnchanged(driver);
    }

    [Fact]
    public void EditingAnotherFileDoesNotRegenerate()
    {
        var compilation = GeneratorHarness.Compile(GeneratedNetworkTests.LeNetSource, "class Other { }");
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var other = compilation.SyntaxTrees.Last();

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(other,
            CSharpSyntaxTree.ParseText("class Other { int x; }", (CSharpParseOptions)other.Options, other.FilePath)));

        AssertAllCachedOrUnchanged(driver);
    }

    [Fact]
    public void ChangingALayerRegenerates()
    {
        var compilation = GeneratorHarness.Compile(GeneratedNetworkTests.LeNetSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            GeneratedNetworkTests.LeNetSource.Replace("QFullyConnected(512)", "QFullyConnected(256)"),
            (CSharpParseOptions)tree.Options, tree.FilePath)));

        var reasons = Reasons(driver, TrackingNames.Targets);
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
    }

    private static void AssertAllCachedOrUnchanged(GeneratorDriver driver)
    {
        foreach (var step in Steps)
        {
            var reasons = Reasons(driver, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
    }

    private static List<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        [.. driver.GetRunResult().Results.Single().TrackedSteps[step]
            .SelectMany(run => run.Outputs)
            .Select(output => output.Reason)];
}
