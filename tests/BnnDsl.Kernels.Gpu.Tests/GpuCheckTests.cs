// The device check program end to end on the CPU accelerator (--smoke), its arguments and its benchmark shapes.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuCheckTests
{
    [Fact]
    public void SmokeRunPassesEveryCheckAndPrintsTheTableLast()
    {
        var output = new StringWriter();
        int code = GpuCheck.GpuCheck.Run(["--smoke", "--device", "cpu"], output);
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        Assert.True(code == 0, output.ToString());
        Assert.DoesNotContain(lines, line => line.Contains("FAILED"));
        Assert.Equal(18, lines.Count(line => line.StartsWith("check ") && line.EndsWith(": ok")));  // 16 kernel checks, the tensor cores and the training step
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

    [Fact]
    public void UnknownArgumentPrintsUsageAndExitsWith2()
    {
        var output = new StringWriter();
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--repeats", "0"], output));
        Assert.Equal(2, GpuCheck.GpuCheck.Run(["--device", "7"], new StringWriter()));
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
