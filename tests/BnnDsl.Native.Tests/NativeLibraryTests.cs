// libbnn.so end to end: publishes it with NativeAOT (once per run), builds check.c and the C example with gcc, and checks
// that C sees exactly what PackedModel computes in process, and that errors come back as NULL / -1 plus a message.
using System.Globalization;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Tests.Shared;

namespace BnnDsl.Native.Tests;

/// <summary>LeNet's shape (float first and last layers, XNOR middle layers); random weights are enough for plumbing.</summary>
[Network(1, 28, 28)]
[Convolution(16, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[QConvolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[Flatten]
[QFullyConnected(128)]
[BatchNorm]
[QActivation(1)]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class NativeLeNet;

/// <summary>Skips a test, saying why, where gcc is not installed.</summary>
public sealed class GccFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when no gcc is on PATH.</summary>
    public GccFactAttribute()
    {
        if (NativeBuild.FindOnPath("gcc") is null)
            Skip = "gcc is not installed (apt-get install gcc): the C API test compiles C programs against libbnn.so.";
    }
}

[Trait("Category", "Integration")]
public sealed class NativeLibraryTests(NativeBuild build) : IClassFixture<NativeBuild>
{
    private const int Count = 12;

    [GccFact]
    public void CMatchesPackedModelFromFileAndMemory()
    {
        var (model, images) = (build.Model, build.Images);
        var input = new float[Count * model.InputLength];
        images.Normalize(0, Count, input);
        var expectedLogits = new float[Count * model.OutputLength];
        model.Predict(input, Count, expectedLogits);
        var expectedClasses = model.Classify(input, Count);
        Assert.True(expectedClasses.Distinct().Count() > 1, "the random model should not give one class to every image");

        string inputFile = Path.Combine(build.Directory, "input.f32");
        File.WriteAllBytes(inputFile, System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        var lines = build.RunC("check", "run", build.ModelFile, inputFile, Count.ToString(CultureInfo.InvariantCulture));
        foreach (string source in new[] { "file", "memory" })
        {
            var mine = lines.Where(l => l.StartsWith(source + ' ', StringComparison.Ordinal)).ToList();
            Assert.Equal($"{source} lengths {model.InputLength} {model.OutputLength} error ''", mine[0]);
            AssertRows(mine.Skip(1).Select(l => l[(source.Length + 1)..]).ToList(), expectedClasses, expectedLogits, model.OutputLength);
        }

        // the C example reads the IDX file and normalizes the pixels itself
        var example = build.RunC("classify", build.ModelFile, build.ImagesFile, Count.ToString(CultureInfo.InvariantCulture));
        AssertRows(example, expectedClasses, expectedLogits, model.OutputLength);
    }

    [GccFact]
    public void LoadErrorsReturnNullAndNameTheFile()
    {
        string missing = Path.Combine(build.Directory, "missing.bnnx");
        var lines = build.RunC("check", "load", missing);
        Assert.StartsWith("file null ", lines[0]);
        Assert.Contains(missing, lines[0]);

        string corrupt = Path.Combine(build.Directory, "corrupt.bnnx");
        var bytes = File.ReadAllBytes(build.ModelFile);
        bytes[^1] ^= 0x5A; // a flipped bit in the last tensor: the checksum no longer matches
        File.WriteAllBytes(corrupt, bytes);
        lines = build.RunC("check", "load", corrupt);
        Assert.StartsWith("file null ", lines[0]);
        Assert.Contains(corrupt, lines[0]);
        Assert.StartsWith("memory null <memory>", lines[1]);

        Assert.Equal(["file ok", "memory ok"], build.RunC("check", "load", build.ModelFile));
    }

    [GccFact]
    public void BadArgumentsReturnMinusOneWithAMessage()
    {
        var lines = build.RunC("check", "args", build.ModelFile);
        Assert.StartsWith("negative_count -1 bnn_classify: count is -1", lines[0]);
        Assert.StartsWith("null_input -1 bnn_classify: input is NULL", lines[1]);
        Assert.Equal("zero_count 0 ''", lines[2]);
        Assert.Equal("input_length -1", lines[3]);
        Assert.StartsWith("predict -1 bnn_predict: the handle is NULL", lines[4]);
        Assert.StartsWith("load_memory null bnn_load_memory: data is NULL", lines[5]);
        Assert.Equal("after_free ''", lines[6]);
    }

    private static void AssertRows(IReadOnlyList<string> rows, int[] classes, float[] logits, int outputs)
    {
        Assert.Equal(classes.Length, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            var fields = rows[i].Split(' ');
            Assert.Equal(classes[i], int.Parse(fields[0], CultureInfo.InvariantCulture));
            var actual = fields.Skip(1).Select(f => float.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(logits.AsSpan(i * outputs, outputs).ToArray(), actual);
        }
    }
}

/// <summary>
/// The one NativeAOT publish of a test run: copies the library's sources (so the publish shares no obj folder with the
/// solution build), publishes libbnn.so, compiles the C programs, and writes a random LeNet-shaped model and IDX images.
/// </summary>
public sealed class NativeBuild : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(6);

    /// <summary>Publishes and compiles, unless gcc is missing (the tests then skip).</summary>
    public NativeBuild()
    {
        Directory = Path.Combine(Path.GetTempPath(), "bnndsl-native-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        var network = new NativeLeNet(Count);
        network.Initialize(7);
        Model = ModelConverter.Convert(network.Definition, name => network.Parameter(name).Value);
        ModelFile = Path.Combine(Directory, "lenet.bnnx");
        Model.Save(ModelFile);
        var rng = new Random(5);
        var pixels = new byte[Count * 28 * 28];
        rng.NextBytes(pixels);
        Images = new IdxImages(Count, 28, 28, pixels);
        ImagesFile = Path.Combine(Directory, "images-idx3-ubyte");
        WriteIdx(ImagesFile, Images);
        if (FindOnPath("gcc") is null)
            return;

        string root = RepositoryRoot();
        string source = Path.Combine(Directory, "src");
        foreach (string file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json" })
            File.Copy(Path.Combine(root, file), Path.Combine(source, file).EnsureParent());
        foreach (string folder in new[] { "dsl", "kernels", "runtime/BnnDsl.Runtime", "native" })
            CopySources(Path.Combine(root, folder), Path.Combine(source, folder));
        string library = Path.Combine(Directory, "lib");
        RunProcess(ChildProcess.DotnetHost, source, PublishTimeout, "publish", "native/BnnDsl.Native", "-r", "linux-x64", "-c", "Release",
            "-p:PublishAot=true", "-p:IlcInstructionSet=native", "-o", library);
        Assert.True(File.Exists(Path.Combine(library, "libbnn.so")), $"the publish made no libbnn.so in {library}");
        foreach (var (program, file) in new[] { ("check", Path.Combine(root, "tests/BnnDsl.Native.Tests/check.c")), ("classify", Path.Combine(root, "native/example/classify.c")) })
        {
            RunProcess("gcc", library, TimeSpan.FromMinutes(1), "-O2", "-Wall", "-Wextra", "-Werror", "-I" + Path.Combine(root, "native/include"),
                file, "-L.", "-lbnn", "-Wl,-rpath,$ORIGIN", "-o", program);
        }
        LibraryDirectory = library;
    }

    private const int Count = 12;

    /// <summary>The temporary folder holding everything.</summary>
    public string Directory { get; }

    /// <summary>Where libbnn.so and the compiled C programs are.</summary>
    public string LibraryDirectory { get; } = "";

    /// <summary>The random model, in process.</summary>
    public PackedModel Model { get; }

    /// <summary>The model's file.</summary>
    public string ModelFile { get; }

    /// <summary>Random 28x28 images.</summary>
    public IdxImages Images { get; }

    /// <summary>The images as an IDX file.</summary>
    public string ImagesFile { get; }

    /// <summary>Runs a compiled C program; fails the test unless it exits with 0; returns its output lines.</summary>
    public List<string> RunC(string program, params string[] arguments) =>
        RunProcess(Path.Combine(LibraryDirectory, program), LibraryDirectory, TimeSpan.FromMinutes(1), arguments)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program)).FirstOrDefault(File.Exists);

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }

    private static void WriteIdx(string path, IdxImages images)
    {
        using var stream = File.Create(path);
        Span<byte> header = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, IdxReader.ImagesMagic);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header[4..], images.Count);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header[8..], images.Rows);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header[12..], images.Columns);
        stream.Write(header);
        stream.Write(images.Pixels);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "BnnDsl.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"no BnnDsl.sln above {AppContext.BaseDirectory}; run the tests from the repository.");
    }

    private static void CopySources(string from, string to)
    {
        foreach (string file in System.IO.Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Any(p => p is "bin" or "obj"))
                continue;
            File.Copy(file, Path.Combine(to, relative).EnsureParent());
        }
    }

    /// <summary>Runs a build step or a built program; the dotnet CLI must not start an MSBuild server that outlives the test.</summary>
    private static string RunProcess(string program, string directory, TimeSpan timeout, params string[] arguments) =>
        ChildProcess.Run(program, directory, timeout, new Dictionary<string, string> { ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0" }, arguments);
}

internal static class PathExtensions
{
    /// <summary>Creates the parent folder of <paramref name="path"/> and returns the path.</summary>
    public static string EnsureParent(this string path)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
