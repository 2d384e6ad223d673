// The emitted file for LeNet against a checked-in baseline; set BNN_UPDATE_SNAPSHOTS=1 to rewrite the baseline.
using System.Runtime.CompilerServices;

namespace BnnDsl.Generator.Tests;

public class SnapshotTests
{
    [Fact]
    public void LeNetMatchesBaseline()
    {
        var (result, _) = GeneratorHarness.Run(GeneratedNetworkTests.LeNetSource);
        string generated = Assert.Single(result.GeneratedSources).SourceText.ToString().ReplaceLineEndings("\n");
        string baseline = Path.Combine(SnapshotDirectory(), "LeNet.g.cs.txt");

        if (Environment.GetEnvironmentVariable("BNN_UPDATE_SNAPSHOTS") == "1")
            File.WriteAllText(baseline, generated);

        Assert.True(File.Exists(baseline), $"No baseline at {baseline}; run the tests once with BNN_UPDATE_SNAPSHOTS=1.");
        Assert.Equal(File.ReadAllText(baseline).ReplaceLineEndings("\n"), generated);
    }

    private static string SnapshotDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");
}
