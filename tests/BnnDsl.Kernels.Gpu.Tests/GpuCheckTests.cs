// The device check program end to end on the CPU accelerator (--smoke, with every kernel's PTX assembled by ptxas),
// its arguments and its benchmark shapes.
using System.Text.RegularExpressions;
using BnnDsl.GpuCheck;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Devices;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuCheckTests
{
    [Fact]
    public void SmokeRunPassesEveryCheckAssemblesEveryKernelAndPrintsTheTableLast()
    {
        string? ptxas = PtxReport.FindPtxas();
        Assert.True(ptxas is not null, "ptxas not found: run 'bash scripts/fetch-ptxas.sh' (scripts/test.sh does) or set PTXAS to the CUDA toolkit's ptxas.");
        var ptxDirectory = Directory.CreateTempSubdirectory("bnndsl-ptx-");
        var output = new StringWriter();
        int code;
        try
        {
            code = GpuCheck.GpuCheck.Run(["--smoke", "--device", "cpu", "--ptx", ptxDirectory.FullName], output);
            AssertPtx(ptxDirectory.FullName, output.ToString());
        }
        finally
        {
            ptxDirectory.Delete(recursive: true);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        Assert.True(code == 0, output.ToString());
        Assert.DoesNotContain(lines, line => line.Contains("FAILED"));
        Assert.Equal(22, lines.Count(line => line.StartsWith("check ") && line.EndsWith(": ok")));  // 17 kernel checks, 3 packed models, the tensor cores, the training step
        Assert.Contains("check xnor gemm tensor cores (mma m16n8k256 .b1): ok", lines);
        int header = Array.FindIndex(lines, line => line.StartsWith("shape "));
        Assert.True(header > 0, "no table header");
        Assert.StartsWith("gemm 64^3", lines[header + 1]);
        Assert.StartsWith("resnet18 16ch 1x1 b1", lines[header + 5]);
        Assert.Contains("n/a", lines[header + 1]);  // no cuBLAS on the CPU accelerator
        Assert.EndsWith("-", lines[header + 1]);  // the square GEMM is no convolution
        Assert.Matches(@"\| +\d\.\d\dE[-+]\d+ +n/a \|", lines[header + 1]);  // tensor cores timed (emulated), no cuBLAS to compare
        for (int row = header + 2; row <= header + 5; row++)
            Assert.Matches(@"\| +\d\.\d\dE[-+]\d+ +\d\.\d\dE[-+]\d+ +n/a$", lines[row]);  // binary conv and its bits output timed
        Assert.Contains(lines, line => line.Contains("binary conv -> bits Tile"));
        Assert.StartsWith("LeNet packed inference images/s at batch 4: device ", lines[^2]);
        Assert.StartsWith("LeNet training images/s", lines[^1]);
    }

    /// <summary>
    /// Every kernel the smoke run loaded compiled to PTX and ptxas assembled it for sm_90; the tiled XNOR and SGEMM kernels keep
    /// their accumulators in registers (no stack frame), and the tensor-core kernel holds the real mma instruction.
    /// </summary>
    private static void AssertPtx(string directory, string output)
    {
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(lines, line => line.StartsWith("ptx FAILED") || line.StartsWith("ptxas FAILED"));
        var files = Directory.GetFiles(directory, "*.ptx").Select(Path.GetFileName).ToHashSet();
        Assert.Contains($"ptx: {files.Count} kernels written to {directory}", lines);
        // Variants the kernel checks run (the timings add the fastest tiles, which vary from run to run).
        foreach (string kernel in new[] { "xnor-threshold.Tile64x64", "xnor-int32.Tile32x32", "xnor-int32.Tile64x64", "xnor-int32.Tile128x64", "binary-conv-int32.Tile64x64", "binary-conv-threshold.Tile32x32", "bit-serial-int32.A8W8-Tile32x32", "softmax-cross-entropy.Single", "adam.Single", "float-conv-fused.Single" })
            Assert.Contains(kernel + ".ptx", files);
        // Every kernel kernels/Gpu declares ran in the smoke check, so all of them were compiled and assembled.
        var compiled = files.Select(file => file![..file!.IndexOf('.')]).ToHashSet();
        var missing = DeclaredKernelNames().Where(name => !compiled.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"kernels the smoke check does not run, so neither compiled nor assembled: {string.Join(", ", missing)}");

        string tensorCore = File.ReadAllText(Path.Combine(directory, "xnor-tensor-core.GpuXnorGemmTensorCore.ptx"));
        Assert.Contains("mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc", tensorCore);

        // One ptxas line per kernel: "name variant regs stack spill-stores spill-loads smem".
        var resources = lines.Select(line => Regex.Match(line, @"^(\S+) (\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$")).Where(m => m.Success)
            .ToDictionary(m => $"{m.Groups[1].Value}.{m.Groups[2].Value}", m => (Registers: int.Parse(m.Groups[3].Value), Stack: int.Parse(m.Groups[4].Value), Spills: int.Parse(m.Groups[5].Value) + int.Parse(m.Groups[6].Value)));
        Assert.Equal(files.Count, resources.Count);
        Assert.All(resources, pair => Assert.True(pair.Value.Registers > 0 && pair.Value.Spills == 0, $"{pair.Key}: {pair.Value}"));
        foreach (var (kernel, resource) in resources.Where(pair => pair.Key.StartsWith("xnor-") || pair.Key.StartsWith("binary-conv-") || pair.Key.StartsWith("sgemm.")))
            Assert.True(resource.Stack == 0, $"{kernel} keeps {resource.Stack} bytes in local memory: its accumulators left the registers");
    }

    /// <summary>The kernel names of kernels/Gpu: <c>device.Kernel("name", ...)</c> and the names its tiled launchers pass.</summary>
    private static IReadOnlyList<string> DeclaredKernelNames()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
            directory = directory.Parent;
        Assert.True(directory is not null, "the repository root (BnnDsl.sln) is not above the test assembly");
        var names = Directory.GetFiles(Path.Combine(directory.FullName, "kernels", "Gpu"), "*.cs")
            .SelectMany(file => Regex.Matches(File.ReadAllText(file), @"(?:device\.Kernel\(|Launch<[^>]+>\(device, )""([a-z0-9-]+)""").Select(m => m.Groups[1].Value))
            .Distinct().ToList();
        Assert.True(names.Count >= 45, $"found only {names.Count} kernel names in kernels/Gpu");
        return names;
    }

    [Fact]
    public void PtxasResourceLinesAreParsed()
    {
        var kernel = new PtxKernel("xnor-int32", "Tile64x64", "Kernel_TiledKernel", "");
        const string Messages = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'Kernel_TiledKernel' for 'sm_90'
            ptxas info    : Function properties for Kernel_TiledKernel
                96 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 48 registers, 9216 bytes smem, 400 bytes cmem[0]
            """;
        var result = PtxReport.Parse(kernel, Messages);
        Assert.Equal((true, 48, 96, 8, 12, 9216), (result.Assembled, result.Registers, result.StackBytes, result.SpillStoreBytes, result.SpillLoadBytes, result.SharedBytes));
        var plain = PtxReport.Parse(kernel, "ptxas info    : Function properties for K\n    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\nptxas info    : Used 10 registers, 380 bytes cmem[0]");
        Assert.Equal((true, 10, 0, 0), (plain.Assembled, plain.Registers, plain.StackBytes, plain.SharedBytes));
        Assert.Equal("xnor-int32.Tile64x64.ptx", kernel.FileName);
        Assert.Equal("sign-pack.ptx", new PtxKernel("sign-pack", "", "K", "").FileName);
    }

    /// <summary>
    /// The --mnist check's orchestration on the first 512 MNIST images with a 1×28×28 miniature of LeNet at batch 32:
    /// two Trainer runs with one recipe and seed, their test accuracies compared and printed, the temporary checkpoint
    /// folders removed. Both runs are on the host here (equal, since the host is deterministic): a 28×28 network takes
    /// tens of seconds per step on the CPU accelerator, and DeviceTrainerTests covers training on a device.
    /// </summary>
    [Fact]
    public void MnistCheckTrainsTwiceWithOneRecipeAndComparesTestAccuracy()
    {
        string mnist = MnistDataSet.DefaultDirectory;
        Assert.True(File.Exists(Path.Combine(mnist, MnistDataSet.TrainImagesFile)), $"MNIST is not in {mnist}: run 'bash scripts/fetch-mnist.sh' (scripts/test.sh does).");
        var spec = LeNetTrainingBenchmark.Infer("TinyMnistNet", TensorShape.Image(1, 28, 28),
            new ConvolutionAttribute(4, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
            new QConvolutionAttribute(8, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
            new FlattenAttribute(), new QFullyConnectedAttribute(32), new BatchNormAttribute(), new QActivationAttribute(1),
            new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute());
        var output = new StringWriter();
        var temporary = Directory.GetDirectories(Path.GetTempPath(), "bnn-gpu-check-mnist-*").Length;

        var result = LeNetMnistCheck.Run(ComputeDeviceKind.Cpu, mnist, epochs: 2, samples: 512, spec, batch: 32, output);

        Assert.Equal((2, 512), (result.Epochs, result.Samples));
        Assert.Equal(result.CpuAccuracy, result.DeviceAccuracy);
        Assert.True(result.Agrees && result.CpuAccuracy > 0.1, output.ToString());
        Assert.Contains($"check LeNet MNIST training on the device reaches the CPU's test accuracy ({result.DeviceAccuracy:P2} vs {result.CpuAccuracy:P2}, within 0.5 %): ok", output.ToString());
        Assert.Equal(temporary, Directory.GetDirectories(Path.GetTempPath(), "bnn-gpu-check-mnist-*").Length);
        Assert.Throws<DataFormatException>(() => LeNetMnistCheck.Run(ComputeDeviceKind.Cpu, Path.Combine(mnist, "missing"), 1, 512, spec, 32, new StringWriter()));
        Assert.False(new MnistTraining(1, 512, 0.98, 1, 0.99, 1).Agrees);
        Assert.True(new MnistTraining(1, 512, 0.986, 1, 0.99, 1).Agrees);
    }

    [Fact]
    public void TheFirstImagesOfASetKeepTheSetsNormalization()
    {
        var set = SyntheticImages.Create(10, 28, 28, 1, 10, seed: 3);
        var first = LeNetMnistCheck.First(set, 4);
        Assert.Equal(4, first.Count);
        Assert.Equal(set.Labels.Labels[..4], first.Labels.Labels);
        Assert.Equal(set.Images.Mean.ToArray(), first.Images.Mean.ToArray());
        var expected = new float[4 * 784];
        var actual = new float[4 * 784];
        set.Images.Normalize(0, 4, expected);
        first.Images.Normalize(0, 4, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void UnknownArgumentPrintsUsageAndExitsWith2()
    {
        var output = new StringWriter();
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--repeats", "0"], output));
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--device", "7"], new StringWriter()));
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--smoke", "--ptx"], new StringWriter()));
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--smoke", "--mnist", "/data", "--mnist-samples", "100"], new StringWriter()));  // fewer than one batch of 128
        Assert.Contains("'--repeats'", output.ToString());
        Assert.Contains("usage: bnn-gpu-check", output.ToString());
    }

    [Fact]
    public void FullShapesOnTheCpuAcceleratorAreRefused()
    {
        var output = new StringWriter();
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--device", "cpu"], output));
        Assert.Contains("--smoke", output.ToString());
    }

    [Fact]
    public void FullRunWithoutCudaExitsWith2AndPointsToSmoke()
    {
        if (GpuDevice.IsCudaPresent)
            return;  // on a GPU machine the full run is the real device check, not this test's business
        var output = new StringWriter();
        Assert.Equal(2, GpuCheck.GpuCheck.Run([], output));
        Assert.Contains("no CUDA device", output.ToString());
        Assert.Contains("--smoke", output.ToString());
    }

    [Fact]
    public void FullShapesAreTheSquareGemmAndResNet18ConvolutionsAtBatch256()
    {
        var all = GpuCheck.GpuCheck.Shapes(smoke: false);
        var shapes = all.Select(s => (s.M, s.N, s.K)).ToArray();
        Assert.Equal(
            [(4096, 4096, 4096), (256 * 32 * 32, 64, 9 * 64), (256 * 16 * 16, 128, 9 * 128), (256 * 8 * 8, 256, 9 * 256), (256 * 4 * 4, 512, 9 * 512)],
            shapes);
        Assert.Null(all[0].Convolution);
        // Each ResNet-18 row's convolution (3x3, stride 1, pad 1) has that row's GEMM as its im2col.
        foreach (var shape in all.Skip(1))
        {
            var convolution = Assert.IsType<Conv2dShape>(shape.Convolution);
            Assert.Equal((3, 1, 1, 256), (convolution.KernelH, convolution.StrideH, convolution.PadH, convolution.Batch));
            Assert.Equal((shape.M, shape.N, shape.K), (convolution.OutputPositions, convolution.Filters, 9 * convolution.Channels));
        }
    }
}
