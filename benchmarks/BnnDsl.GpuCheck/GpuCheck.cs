// The device check: opens the accelerator, runs the kernel checks, times the GEMM shapes and prints one table last.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Data;

namespace BnnDsl.GpuCheck;

/// <summary>
/// <c>bnn-gpu-check [--smoke] [--device auto|cpu|cuda] [--repeats N] [--ptx DIR]</c>. Without <c>--smoke</c> it needs CUDA and
/// times M = N = K = 4096 and the ResNet-18 3×3 convolution GEMMs at batch 256, then LeNet packed inference at batch
/// 1024 on the device against the CPU interpreter; with <c>--smoke</c> it runs tiny
/// shapes on any accelerator (the CPU accelerator in CI). With <c>--ptx DIR</c> it also writes the PTX of every kernel it
/// ran into DIR and assembles each with ptxas for sm_90 (<see cref="PtxReport"/>), before the table; with
/// <c>--mnist DIR</c> it trains LeNet on the MNIST files in DIR on the device and on the CPU and requires the same test
/// accuracy (<see cref="LeNetMnistCheck"/>; <c>--mnist-epochs</c>, default 1, <c>--mnist-samples</c>, default all). Exit code 0: every check and validation passed; 1: one
/// failed; 2: bad arguments or no CUDA device.
/// </summary>
public static class GpuCheck
{
    private const string Usage = "usage: bnn-gpu-check [--smoke] [--device auto|cpu|cuda] [--repeats N] [--ptx DIR] [--mnist DIR [--mnist-epochs N] [--mnist-samples N]]";

    /// <summary>Runs the check, writing progress and the final table to <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        bool smoke = false;
        var kind = GpuDeviceKind.Auto;
        int repeats = 20;
        string? ptxDirectory = null, mnistDirectory = null;
        int mnistEpochs = 1, mnistSamples = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--smoke":
                    smoke = true;
                    break;
                case "--device" when i + 1 < args.Length && Enum.TryParse(args[i + 1], ignoreCase: true, out kind) && Enum.IsDefined(kind):
                    i++;
                    break;
                case "--repeats" when i + 1 < args.Length && int.TryParse(args[i + 1], out repeats) && repeats > 0:
                    i++;
                    break;
                case "--mnist" when i + 1 < args.Length && args[i + 1].Length > 0 && !args[i + 1].StartsWith("--", StringComparison.Ordinal):
                    mnistDirectory = args[++i];
                    break;
                case "--mnist-epochs" when i + 1 < args.Length && int.TryParse(args[i + 1], out mnistEpochs) && mnistEpochs > 0:
                    i++;
                    break;
                case "--mnist-samples" when i + 1 < args.Length && int.TryParse(args[i + 1], out mnistSamples) && mnistSamples >= 128:
                    i++;
                    break;
                case "--ptx" when i + 1 < args.Length && args[i + 1].Length > 0 && !args[i + 1].StartsWith("--", StringComparison.Ordinal):
                    ptxDirectory = args[++i];
                    break;
                default:
                    output.WriteLine($"bnn-gpu-check: unknown or incomplete argument '{args[i]}'.");
                    output.WriteLine(Usage);
                    return 2;
            }
        }

        if (!smoke && kind == GpuDeviceKind.Cpu)
        {
            output.WriteLine("bnn-gpu-check: the full shapes need CUDA (they would take hours on the CPU accelerator); add --smoke for tiny shapes.");
            return 2;
        }
        if (kind == GpuDeviceKind.Cuda || (!smoke && kind == GpuDeviceKind.Auto))
        {
            if (!GpuDevice.IsCudaPresent)
            {
                output.WriteLine("bnn-gpu-check: no CUDA device found (no NVIDIA driver or no GPU). Run it on the GPU server, or pass --smoke for the CPU accelerator.");
                return 2;
            }
            kind = GpuDeviceKind.Cuda;
        }

        using var device = Open(kind, output);
        if (device is null)
            return 1;
        output.WriteLine($"device: {device.Name} ({device.Kind}), max group {device.MaxGroupSize} threads");
        if (device.Kind == GpuDeviceKind.Cuda)
            output.WriteLine($"CUDA driver: {GpuDevice.CudaDriverLibrary ?? "loaded by the runtime's default search"}");
        output.WriteLine(device.IsCuBlasAvailable
            ? $"cuBLAS: {device.CuBlasLibrary ?? "loaded by the runtime's default search"}"
            : $"cuBLAS: n/a ({device.CuBlasProblem})");
        int failed = GpuKernelChecks.Run(device, output) + PackedInferenceBenchmark.CheckModels(device.Kind, output);
        if (failed > 0)
        {
            output.WriteLine($"{failed} kernel check(s) failed; no timings taken.");
            return 1;
        }

        bool tensorCores = GpuKernelChecks.TensorCores(device, output);
        bool tensorCoresFailed = !tensorCores && GpuXnorGemmTensorCore.IsSupported(device);

        var timings = new List<GemmTiming>();
        foreach (var shape in Shapes(smoke))
        {
            try
            {
                var timing = GemmBenchmark.Measure(device, shape, tensorCores, smoke ? 1 : repeats, output);
                if (shape.Convolution is Conv2dShape convolution)
                    timing = timing with { Convolution = ConvBenchmark.Measure(device, shape.Name, convolution, smoke ? 1 : repeats, output) };
                timings.Add(timing);
            }
            catch (InvalidDataException e)
            {
                output.WriteLine($"validation FAILED: {e.Message}");
                return 1;
            }
        }
        PackedInferenceTiming inference;
        TrainingTiming training;
        try
        {
            inference = PackedInferenceBenchmark.Measure(device.Kind, smoke ? 4 : 1024, smoke ? 1 : repeats, output);
            training = LeNetTrainingBenchmark.Measure(device, smoke, smoke ? 1 : 200, output);
        }
        catch (InvalidDataException e)
        {
            output.WriteLine($"validation FAILED: {e.Message}");
            return 1;
        }
        // The timings are in hand: from here a failure is reported and the table still printed (one GPU session is short).
        MnistTraining? mnist = null;
        bool mnistFailed = false;
        if (mnistDirectory is not null)
        {
            try
            {
                mnist = LeNetMnistCheck.Run(device.Kind, mnistDirectory, mnistEpochs, mnistSamples, output);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                output.WriteLine($"check LeNet MNIST training: FAILED: {e.GetType().Name}: {e.Message}");
                mnistFailed = true;
            }
        }
        int ptxFailed;
        try
        {
            ptxFailed = ptxDirectory is null ? 0 : PtxReport.Write(device, ptxDirectory, output);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            output.WriteLine($"PTX report: FAILED: {e.GetType().Name}: {e.Message}");
            ptxFailed = 1;
        }
        ResultTable.Write(output, device, timings, inference, training, smoke, mnist);
        if (tensorCoresFailed)
            output.WriteLine("The tensor-core XNOR GEMM failed its check (above), so its columns read n/a; every other check passed.");
        if (ptxFailed > 0)
            output.WriteLine($"{ptxFailed} kernel(s) failed to compile to PTX or to assemble with ptxas (above).");
        if (mnist is { Agrees: false })
            output.WriteLine("LeNet trained on the device did not reach the CPU's test accuracy (above).");
        if (mnistFailed)
            output.WriteLine("The LeNet MNIST training check failed (above).");
        return tensorCoresFailed || ptxFailed > 0 || mnistFailed || mnist is { Agrees: false } ? 1 : 0;
    }

    /// <summary>Opens the device, or writes why it cannot (a driver or GPU architecture ILGPU cannot use) and returns null.</summary>
    private static GpuDevice? Open(GpuDeviceKind kind, TextWriter output)
    {
        try
        {
            return GpuDevice.Create(kind);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            output.WriteLine($"bnn-gpu-check: could not open the {kind} device: {e.GetType().Name}: {e.GetBaseException().Message}");
            return null;
        }
    }

    /// <summary>
    /// M = N = K = 4096, and the 3×3 convolutions of ResNet-18's four stages at batch 256 (stride 1, pad 1) as GEMMs:
    /// M = 256·H·W positions, N = filters, K = 9·channels; those rows also time the binary convolution itself. The smoke shapes keep the order at batch 1 with H and W divided by 8 and
    /// the channels by 32, small enough for the CPU accelerator.
    /// </summary>
    internal static IReadOnlyList<GemmShape> Shapes(bool smoke)
    {
        int batch = smoke ? 1 : 256, sideScale = smoke ? 8 : 1, channelScale = smoke ? 32 : 1, square = smoke ? 64 : 4096;
        var shapes = new List<GemmShape> { new($"gemm {square}^3", square, square, square) };
        foreach (var (channels, size) in new[] { (64, 32), (128, 16), (256, 8), (512, 4) })
        {
            int side = Math.Max(1, size / sideScale), filters = channels / channelScale;
            shapes.Add(new GemmShape($"resnet18 {filters}ch {side}x{side} b{batch}", batch * side * side, filters, 9 * filters,
                Conv2dShape.Square(batch, side, filters, filters, 3, 1, 1)));
        }
        return shapes;
    }
}
