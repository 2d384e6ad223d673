// BNN0014: two declarations of one generated class (attribute and .bnn forms, any mix) are reported at the later one,
// which is not generated; the first still is, so the compilation has no CS8785 and no duplicate members.
using Microsoft.CodeAnalysis;
using static BnnDsl.Generator.Tests.TextNetworkTests;

namespace BnnDsl.Generator.Tests;

public class DuplicateNetworkTests
{
    private const string AttributeNet = "using BnnDsl;\nnamespace Samples;\n[Network(1, 8, 8)]\n[ReLU]\npublic partial class Net;";

    [Fact]
    public void BnnNetworkNamedLikeAnAttributeNetworkIsReportedInTheBnnFile()
    {
        var result = Run(Driver("Samples", new InMemoryText("/project/Net.bnn", "# the same class\nnetwork Net input 1x8x8\nReLU")), AttributeNet);

        AssertDuplicate(result, "Samples.Net", "/project/Net.bnn", 1, 0, first: "Network.cs(3,2)");
        Assert.Equal("Samples.Net.g.cs", Assert.Single(result.GeneratedSources).HintName);
        Assert.Contains("from the attributes on Net.", Assert.Single(result.GeneratedSources).SourceText.ToString());
    }

    [Fact]
    public void TwoBnnFilesWithOneNetworkNameAreReportedInTheSecond()
    {
        var result = Run(Driver("Samples",
            new InMemoryText("/project/a/Net.bnn", "network Tiny input 1x8x8\nReLU"),
            new InMemoryText("/project/b/Other.bnn", "\n\nnetwork Tiny input 1x4x4\nFlatten")), "class Other { }");

        AssertDuplicate(result, "Samples.Tiny", "/project/b/Other.bnn", 2, 0, first: "/project/a/Net.bnn(1,1)");
        Assert.Equal("Samples.Tiny.g.cs", Assert.Single(result.GeneratedSources).HintName);
    }

    [Fact]
    public void NamesThatDifferOnlyInCaseCollideAsHintNames()
    {
        var result = Run(Driver(null,
            new InMemoryText("/project/Lower.bnn", "network tiny input 1x8x8\nReLU"),
            new InMemoryText("/project/Upper.bnn", "network TINY input 1x8x8\nReLU")), "class Other { }");

        AssertDuplicate(result, "TINY", "/project/Upper.bnn", 0, 0, first: "/project/Lower.bnn(1,1)");
        Assert.Equal("tiny.g.cs", Assert.Single(result.GeneratedSources).HintName);
    }

    [Fact]
    public void NetworkAttributeOnTwoPartsOfOneClassIsReportedAtTheSecond()
    {
        var result = Run(Driver(null), "using BnnDsl;\n[Network(1, 8, 8)]\n[ReLU]\npublic partial class Net;",
            "using BnnDsl;\n\n[Network(1, 8, 8)]\npublic partial class Net;");

        AssertDuplicate(result, "Net", "Other1.cs", 2, 1, first: "Network.cs(2,2)");
        Assert.Single(result.GeneratedSources);
    }

    [Fact]
    public void BnnFileWithSyntaxErrorsDeclaresNoName()
    {
        var result = Run(Driver("Samples", new InMemoryText("/project/Net.bnn", "network Net input 1x8\nReLU")), AttributeNet);

        Assert.Equal("BNN0009", Assert.Single(result.Diagnostics).Id);
        Assert.Equal("Samples.Net.g.cs", Assert.Single(result.GeneratedSources).HintName);
    }

    private static GeneratorRunResult Run(GeneratorDriver driver, params string[] sources) =>
        driver.RunGenerators(GeneratorHarness.Compile(sources)).GetRunResult().Results.Single();

    private static void AssertDuplicate(GeneratorRunResult result, string name, string path, int line, int column, string first)
    {
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("BNN0014", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal((path, line, column), (span.Path, span.StartLinePosition.Line, span.StartLinePosition.Character));
        string second = $"{path}({line + 1},{column + 1})";
        Assert.Equal($"Network '{name}' is declared twice: at {first} and at {second}; rename one", diagnostic.GetMessage());
    }
}
