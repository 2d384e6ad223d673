// Compiles test sources against the dsl and runtime, runs BnnGenerator on them and loads what it produced.
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using BnnDsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace BnnDsl.Generator.Tests;

internal static class GeneratorHarness
{
    public const string FileName = "Network.cs";

    /// <summary>Every assembly of this test process (the .NET libraries, the dsl, the runtime, the kernels).</summary>
    private static readonly ImmutableArray<MetadataReference> References =
        [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(path => MetadataReference.CreateFromFile(path))];

    public static CSharpCompilation Compile(params string[] sources) => CSharpCompilation.Create("Generated",
        sources.Select((source, i) => CSharpSyntaxTree.ParseText(source,
            CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest), i == 0 ? FileName : $"Other{i}.cs")),
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        [new BnnGenerator().AsSourceGenerator()],
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns its result and the compilation with the generated files added.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(string source)
    {
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(Compile(source), out var output, out _);
        return (Assert.Single(driver.GetRunResult().Results), output);
    }

    /// <summary>The warnings and errors of a run: every diagnostic but the info notes (BNN0100: no Packed class).</summary>
    public static IEnumerable<Diagnostic> Problems(GeneratorRunResult result) =>
        result.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Info);

    /// <summary>Emits <paramref name="compilation"/> (failing on any error) and loads it into a collectible context.</summary>
    public static Assembly Load(Compilation compilation)
    {
        using var image = new MemoryStream();
        var emit = compilation.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;
        return new AssemblyLoadContext("generated", isCollectible: true).LoadFromStream(image);
    }
}
