// Packs the BnnDsl package into a temporary feed and builds a console project that references only that package, with a
// [Network] class and a .bnn file; the program's output must match the specs and summaries computed here from the dsl.
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using BnnDsl.Runtime;

namespace BnnDsl.Package.Tests;

[Trait("Category", "Integration")]
public sealed class PackageConsumerTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    // The consumer's attribute network; AttributeNetText is the same network in the text form, for the expected values.
    private const string AttributeNetSource = """
        using BnnDsl;

        namespace Consumer.Models;

        [Network(1, 16, 16)]
        [QConvolution(8, 3, Pad = 1)]
        [BatchNorm]
        [MaxPool(2)]
        [QActivation(1)]
        [Flatten]
        [QFullyConnected(32)]
        [BatchNorm]
        [FullyConnected(10)]
        public partial class AttrNet;
        """;

    private const string AttributeNetText = """
        network AttrNet input 1x16x16
        QConvolution filters=8 kernel=3 pad=1
        BatchNorm
        MaxPool size=2
        QActivation bits=1
        Flatten
        QFullyConnected units=32
        BatchNorm
        FullyConnected units=10
        """;

    private const string TextNetText = """
        # a .bnn network, found by the package's default AdditionalFiles glob
        network TextNet input 3x12x12
        QConvolution filters=16 kernel=3
        BatchNorm
        QActivation bits=1
        QConvolution filters=24 kernel=3 stride=2 pad=1 padding=zero
        GlobalAvgPool
        FullyConnected units=4
        """;

    private const string ProgramSource = """
        Report(Consumer.Models.AttrNet.Spec, Consumer.Models.AttrNet.Summary());
        Report(Consumer.TextNet.Spec, Consumer.TextNet.Summary());

        static void Report(BnnDsl.NetworkSpec spec, string summary)
        {
            Console.WriteLine($"network {spec.Name} layers {spec.Layers.Count} output {spec.Output}");
            Console.Write(summary);
            Console.WriteLine("end");
        }
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "bnndsl-package-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void ProjectWithOnePackageReferenceGeneratesAttributeAndTextNetworks()
    {
        string feed = Path.Combine(_root, "feed"), packages = Path.Combine(_root, "packages"), consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(consumer);

        // A fresh NUGET_PACKAGES folder: the global package cache can never serve a stale BnnDsl.
        string configuration = typeof(PackageConsumerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        Dotnet.Run(RepositoryRoot(), packages, StepTimeout, "pack", Path.Combine("pack", "BnnDsl.Package.csproj"),
            "-c", configuration, "-o", feed, "--disable-build-servers");
        string package = Assert.Single(Directory.GetFiles(feed, "BnnDsl.*.nupkg"));
        string version = Path.GetFileNameWithoutExtension(package)["BnnDsl.".Length..];
        AssertPackageContents(package);

        WriteConsumer(consumer, feed, version);
        Dotnet.Run(consumer, packages, StepTimeout, "build", "-c", "Release", "--disable-build-servers");
        string generated = Path.Combine(consumer, "obj", "Release", "net10.0", "generated", "BnnDsl.Generator", "BnnDsl.Generator.BnnGenerator");
        Assert.True(File.Exists(Path.Combine(generated, "Consumer.Models.AttrNet.g.cs")), "no generated file for the [Network] class in " + generated);
        Assert.True(File.Exists(Path.Combine(generated, "Consumer.TextNet.g.cs")), "no generated file for the .bnn network in " + generated);

        string output = Dotnet.Run(consumer, packages, StepTimeout, Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"));
        Assert.Equal(Expected(AttributeNetText) + Expected(TextNetText), output);
    }

    /// <summary>What the consumer prints for a network: computed from its text form by the dsl and the runtime.</summary>
    private static string Expected(string text)
    {
        var (network, diagnostics) = BnnTextParser.Parse(text, "expected.bnn");
        Assert.Empty(diagnostics);
        Assert.NotNull(network);
        return $"network {network.Name} layers {network.Layers.Count} output {network.Output}\n"
            + NetworkSummary.Create(network).ToTable() + "end\n";
    }

    private static void AssertPackageContents(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var files = zip.Entries.Select(e => e.FullName)
            .Where(f => !f.StartsWith("_rels/", StringComparison.Ordinal) && !f.StartsWith("package/", StringComparison.Ordinal) && f != "[Content_Types].xml")
            .Order(StringComparer.Ordinal);
        Assert.Equal(
        [
            "BnnDsl.nuspec", "README.md",
            "analyzers/dotnet/cs/BnnDsl.Dsl.dll", "analyzers/dotnet/cs/BnnDsl.Generator.dll", "analyzers/dotnet/cs/Scriban.Signed.dll",
            "build/BnnDsl.props", "build/BnnDsl.targets", "buildTransitive/BnnDsl.props", "buildTransitive/BnnDsl.targets",
            "lib/net10.0/BnnDsl.Dsl.dll", "lib/net10.0/BnnDsl.Dsl.xml", "lib/net10.0/BnnDsl.Kernels.dll", "lib/net10.0/BnnDsl.Kernels.xml",
            "lib/net10.0/BnnDsl.Runtime.dll", "lib/net10.0/BnnDsl.Runtime.xml",
        ], files);

        using var nuspec = zip.GetEntry("BnnDsl.nuspec")!.Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency");
        Assert.Empty(dependencies);
    }

    private static void WriteConsumer(string directory, string feed, string version)
    {
        // The temporary feed first; the sources of the user's and machine's NuGet configuration still apply after it.
        File.WriteAllText(Path.Combine(directory, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="bnndsl-under-test" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <RootNamespace>Consumer</RootNamespace>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="BnnDsl" Version="[{version}]" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "AttrNet.cs"), AttributeNetSource);
        Directory.CreateDirectory(Path.Combine(directory, "Networks"));
        File.WriteAllText(Path.Combine(directory, "Networks", "TextNet.bnn"), TextNetText);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), ProgramSource);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"No BnnDsl.sln above {AppContext.BaseDirectory}; run the package tests from a checkout of the repository.");
    }
}
