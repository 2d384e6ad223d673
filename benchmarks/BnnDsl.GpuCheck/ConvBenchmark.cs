// Times the binary convolution (implicit im2col) on one ResNet-18 3x3 shape, validated first against the host.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.GpuCheck;

/// <summary>
/// Seconds per launch of the binary convolution with int32 output (best tile) and with packed threshold bits (that
/// tile), on a convolution whose im2col GEMM is a row of the table.
/// </summary>
internal sealed record ConvTiming(double Int32Seconds, string Tile, double BitsSeconds);

internal static class ConvBenchmark
{
    private const int Samples = 256;

    /// <summary>
    /// Random float input and weights, packed on the device; <see cref="GpuBinaryConv2d"/> with zero padding (what a
    /// float-trained network's padding means) per tile shape, int32 output, each checked at <see cref="Samples"/>
    /// random outputs against dots computed on the host from the floats' signs; then the threshold-bits output with the
    /// best tile, checked at the same outputs. A mismatch throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static ConvTiming Measure(GpuDevice device, string name, Conv2dShape shape, int maxRepeats, TextWriter output)
    {
        int c = shape.Channels, taps = shape.KernelH * shape.KernelW, words = SignPacking.WordsFor(c);
        int pixels = shape.Batch * shape.Height * shape.Width, m = shape.OutputPositions, n = shape.Filters;
        var random = new Random(shape.Batch * 7 + shape.Height * 131 + c);
        var input = RandomOperands.UniformFloats(random, (long)pixels * c);
        var weights = RandomOperands.UniformFloats(random, (long)n * taps * c);
        using var inputFloats = device.Accelerator.Allocate1D(input);
        using var weightFloats = device.Accelerator.Allocate1D(weights);
        using var inputBits = device.Allocate<ulong>((long)pixels * words);
        using var weightBits = device.Allocate<ulong>((long)n * taps * words);
        using var dots = device.Allocate<int>((long)m * n);
        using var threshold = device.Allocate<int>(n);
        using var bits = device.Allocate<ulong>((long)m * SignPacking.WordsFor(n));
        GpuSignPacking.Pack(device, inputFloats.View, pixels, c, inputBits.View);
        GpuSignPacking.Pack(device, weightFloats.View, n * taps, c, weightBits.View);
        threshold.View.MemSetToZero();

        var operations = 2.0 * m * n * taps * c;
        double best = double.MaxValue;
        string bestTile = "";
        foreach (var (tile, run) in new (string, Action)[]
        {
            ("64x64", () => GpuBinaryConv2d.Forward<Tile64x64>(device, inputBits.View, weightBits.View, shape, BinaryPadding.Zero, dots.View)),
            ("128x64", () => GpuBinaryConv2d.Forward<Tile128x64>(device, inputBits.View, weightBits.View, shape, BinaryPadding.Zero, dots.View)),
            ("32x32", () => GpuBinaryConv2d.Forward<Tile32x32>(device, inputBits.View, weightBits.View, shape, BinaryPadding.Zero, dots.View)),
        })
        {
            dots.View.MemSetToZero();
            run();
            Validate(name, shape, input, weights, dots.GetAsArray1D(), null, $"binary conv Tile{tile}");
            double seconds = GemmBenchmark.SecondsPerRun(device, run, maxRepeats);
            output.WriteLine($"  {name}: binary conv Tile{tile} {ResultTable.Format(operations / seconds / 1e12)} TOPS ({seconds * 1e3:F3} ms)");
            if (seconds < best)
                (best, bestTile) = (seconds, tile);
        }

        Action bitsRun = bestTile switch
        {
            "64x64" => () => GpuBinaryConv2d.ForwardThreshold<Tile64x64>(device, inputBits.View, weightBits.View, shape, BinaryPadding.Zero, threshold.View, bits.View),
            "128x64" => () => GpuBinaryConv2d.ForwardThreshold<Tile128x64>(device, inputBits.View, weightBits.View, shape, BinaryPadding.Zero, threshold.View, bits.View),
            _ => () => GpuBinaryConv2d.ForwardThreshold<Tile32x32>(device, inputBits.View, weightBits.View, shape, BinaryPadding.Zero, threshold.View, bits.View),
        };
        bitsRun();
        Validate(name, shape, input, weights, null, bits.GetAsArray1D(), $"binary conv threshold bits Tile{bestTile}");
        double bitsSeconds = GemmBenchmark.SecondsPerRun(device, bitsRun, maxRepeats);
        output.WriteLine($"  {name}: binary conv -> bits Tile{bestTile} {ResultTable.Format(operations / bitsSeconds / 1e12)} TOPS ({bitsSeconds * 1e3:F3} ms)");
        return new ConvTiming(best, bestTile, bitsSeconds);
    }

    /// <summary>The dot of sampled outputs from the float signs with zero padding; for bits, its sign against threshold 0.</summary>
    private static void Validate(string name, Conv2dShape s, float[] input, float[] weights, int[]? dots, ulong[]? bits, string what)
    {
        var random = new Random(9);
        int outW = s.OutputWidth, outH = s.OutputHeight, c = s.Channels, filterWords = SignPacking.WordsFor(s.Filters);
        for (int sample = 0; sample < Samples; sample++)
        {
            int position = random.Next(s.OutputPositions), o = random.Next(s.Filters);
            int b = position / (outH * outW), oy = position / outW % outH, ox = position % outW;
            int expected = 0;
            for (int ky = 0; ky < s.KernelH; ky++)
                for (int kx = 0; kx < s.KernelW; kx++)
                {
                    int iy = oy * s.StrideH - s.PadH + ky, ix = ox * s.StrideW - s.PadW + kx;
                    if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width)
                        continue;
                    long pixel = (((long)b * s.Height + iy) * s.Width + ix) * c, tap = (((long)o * s.KernelH + ky) * s.KernelW + kx) * c;
                    for (int ch = 0; ch < c; ch++)
                        expected += (input[pixel + ch] >= 0f) == (weights[tap + ch] >= 0f) ? 1 : -1;
                }
            if (dots is not null && dots[(long)position * s.Filters + o] != expected)
                throw new InvalidDataException($"{what} on {name}: output ({position}, {o}) is {dots[(long)position * s.Filters + o]}, the signs' convolution is {expected}.");
            if (bits is not null && ((bits[(long)position * filterWords + o / 64] >> (o % 64)) & 1) != (expected < 0 ? 1UL : 0UL))
                throw new InvalidDataException($"{what} on {name}: bit ({position}, {o}) disagrees with the signs' convolution {expected} against threshold 0.");
        }
    }
}
