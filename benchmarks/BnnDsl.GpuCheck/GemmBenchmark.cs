// Times one GEMM shape four ways (XNOR GEMM per tile shape, XNOR on tensor cores, cuBLAS SGEMM, our tiled SGEMM), each validated first.
using System.Diagnostics;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.GpuCheck;

/// <summary>
/// A GEMM shape: C (m × n) = A (m × k) · Bᵀ (B stored n × k); k counts bits for XNOR and floats for SGEMM. Where the
/// GEMM is a convolution's im2col, <see cref="Convolution"/> is that convolution (timed as a binary convolution too).
/// </summary>
internal sealed record GemmShape(string Name, int M, int N, int K, Conv2dShape? Convolution = null)
{
    /// <summary>2·m·n·k: one multiply and one add per (i, j, k), the convention for both binary and float GEMM.</summary>
    public double Operations => 2.0 * M * N * K;
}

/// <summary>
/// Seconds per launch of each implementation on one shape; <see cref="CuBlasSeconds"/> is null where cuBLAS could not
/// run (<see cref="CuBlasNote"/> says why); <see cref="Convolution"/> is the binary convolution's, where the shape has one.
/// </summary>
internal sealed record GemmTiming(GemmShape Shape, double XnorSeconds, string XnorTile, double? CuBlasSeconds, string? CuBlasNote,
    double OursSeconds, double? TensorCoreSeconds, ConvTiming? Convolution = null);

internal static class GemmBenchmark
{
    private const int Samples = 256;

    /// <summary>
    /// Makes random float A (m × k) and B (n × k), packs both on the device, and times XNOR GEMM (every tile shape, the
    /// best one kept), XNOR GEMM on the 1-bit tensor cores (when <paramref name="tensorCores"/>: the device has them and
    /// their check passed), cuBLAS SGEMM (CUDA only) and our tiled SGEMM on them. Every result is first checked against the
    /// same dot products computed on the host at <see cref="Samples"/> random outputs; a mismatch throws.
    /// </summary>
    public static GemmTiming Measure(GpuDevice device, GemmShape shape, bool tensorCores, int maxRepeats, TextWriter output)
    {
        var (m, n, k) = (shape.M, shape.N, shape.K);
        int words = (k + 63) / 64;
        var random = new Random(shape.M * 31 + shape.N * 17 + shape.K);
        var a = RandomOperands.UniformFloats(random, (long)m * k);
        var b = RandomOperands.UniformFloats(random, (long)n * k);
        using var aFloats = device.Accelerator.Allocate1D(a);
        using var bFloats = device.Accelerator.Allocate1D(b);
        using var aBits = device.Allocate<ulong>((long)m * words);
        using var bBits = device.Allocate<ulong>((long)n * words);
        using var dots = device.Allocate<int>((long)m * n);
        using var c = device.Allocate<float>((long)m * n);
        GpuSignPacking.Pack(device, aFloats.View, m, k, aBits.View);
        GpuSignPacking.Pack(device, bFloats.View, n, k, bBits.View);

        double xnorSeconds = double.MaxValue;
        string xnorTile = "";
        foreach (var (tile, run) in new (string, Action)[]
        {
            ("64x64", () => GpuXnorGemm.Multiply<Tile64x64>(device, aBits.View, m, bBits.View, n, k, dots.View)),
            ("128x64", () => GpuXnorGemm.Multiply<Tile128x64>(device, aBits.View, m, bBits.View, n, k, dots.View)),
            ("32x32", () => GpuXnorGemm.Multiply<Tile32x32>(device, aBits.View, m, bBits.View, n, k, dots.View)),
        })
        {
            dots.View.MemSetToZero();
            run();
            ValidateSigns(shape, a, b, dots.GetAsArray1D(), $"XNOR GEMM Tile{tile}");
            double seconds = SecondsPerRun(device, run, maxRepeats);
            output.WriteLine($"  {shape.Name}: XNOR GEMM Tile{tile} {ResultTable.Format(Tops(shape, seconds))} TOPS ({seconds * 1e3:F3} ms)");
            if (seconds < xnorSeconds)
                (xnorSeconds, xnorTile) = (seconds, tile);
        }

        double? tensorCoreSeconds = null;
        if (tensorCores)
        {
            void RunTensorCores() => GpuXnorGemmTensorCore.Multiply(device, aBits.View, m, bBits.View, n, k, dots.View);
            dots.View.MemSetToZero();
            RunTensorCores();
            ValidateSigns(shape, a, b, dots.GetAsArray1D(), "XNOR GEMM on tensor cores");
            tensorCoreSeconds = SecondsPerRun(device, RunTensorCores, maxRepeats);
            output.WriteLine($"  {shape.Name}: XNOR GEMM tensor cores {ResultTable.Format(Tops(shape, tensorCoreSeconds.Value))} TOPS ({tensorCoreSeconds.Value * 1e3:F3} ms)");
        }

        double? cuBlasSeconds = null;
        string? cuBlasNote = null;
        if (!device.IsCuBlasAvailable)
            cuBlasNote = device.CuBlasProblem;
        else
            cuBlasSeconds = TimeSgemm(device, shape, a, b, aFloats.View, bFloats.View, c, GpuSgemmEngine.CuBlas, maxRepeats, output);
        double oursSeconds = TimeSgemm(device, shape, a, b, aFloats.View, bFloats.View, c, GpuSgemmEngine.Tiled, maxRepeats, output);
        return new GemmTiming(shape, xnorSeconds, xnorTile, cuBlasSeconds, cuBlasNote, oursSeconds, tensorCoreSeconds);
    }

    /// <summary>Tera-operations per second of one launch of <paramref name="seconds"/>.</summary>
    public static double Tops(GemmShape shape, double seconds) => shape.Operations / seconds / 1e12;

    private static double TimeSgemm(GpuDevice device, GemmShape shape, float[] a, float[] b, ArrayView<float> aView,
        ArrayView<float> bView, MemoryBuffer1D<float, Stride1D.Dense> c, GpuSgemmEngine engine, int maxRepeats, TextWriter output)
    {
        var (m, n, k) = (shape.M, shape.N, shape.K);
        void Run() => GpuSgemm.Multiply(device, false, true, m, n, k, 1f, aView, k, bView, k, 0f, c.View, n, engine);
        c.View.MemSetToZero();
        Run();
        ValidateFloats(shape, a, b, c.GetAsArray1D(), $"SGEMM {engine}");
        double seconds = SecondsPerRun(device, Run, maxRepeats);
        output.WriteLine($"  {shape.Name}: SGEMM {engine} {ResultTable.Format(Tops(shape, seconds))} TFLOPS ({seconds * 1e3:F3} ms)");
        return seconds;
    }

    /// <summary>
    /// One timed launch (the caller's validated launch was the warm-up) and, when <paramref name="maxRepeats"/> allows,
    /// enough further launches for about 0.2 s (at most maxRepeats), timed together.
    /// </summary>
    internal static double SecondsPerRun(GpuDevice device, Action run, int maxRepeats)
    {
        var clock = Stopwatch.StartNew();
        run();
        device.Synchronize();
        double once = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        int repeats = (int)Math.Clamp(Math.Ceiling(0.2 / once), 1, maxRepeats);
        if (repeats == 1)
            return once;
        clock.Restart();
        for (int r = 0; r < repeats; r++)
            run();
        device.Synchronize();
        return clock.Elapsed.TotalSeconds / repeats;
    }

    private static void ValidateSigns(GemmShape shape, float[] a, float[] b, int[] dots, string what)
    {
        var random = new Random(7);
        for (int s = 0; s < Samples; s++)
        {
            int i = random.Next(shape.M), j = random.Next(shape.N);
            int expected = 0;
            for (int t = 0; t < shape.K; t++)
                expected += (a[(long)i * shape.K + t] >= 0f) == (b[(long)j * shape.K + t] >= 0f) ? 1 : -1;
            int actual = dots[(long)i * shape.N + j];
            if (actual != expected)
                throw new InvalidDataException($"{what} on {shape.Name}: dot[{i}, {j}] is {actual}, the signs' dot product is {expected}.");
        }
    }

    private static void ValidateFloats(GemmShape shape, float[] a, float[] b, float[] c, string what)
    {
        var random = new Random(8);
        for (int s = 0; s < Samples; s++)
        {
            int i = random.Next(shape.M), j = random.Next(shape.N);
            double expected = 0;
            for (int t = 0; t < shape.K; t++)
                expected += (double)a[(long)i * shape.K + t] * b[(long)j * shape.K + t];
            float actual = c[(long)i * shape.N + j];
            if (!(Math.Abs(actual - expected) <= 1e-5 * shape.K))
                throw new InvalidDataException($"{what} on {shape.Name}: C[{i}, {j}] is {actual}, the double-precision dot product is {expected}.");
        }
    }
}
