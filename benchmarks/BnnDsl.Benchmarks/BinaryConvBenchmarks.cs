// The 3×3, pad-1 convolutions of a CIFAR ResNet-18's stages: the binary convolution on packed input with packed
// threshold output (what a binary layer does inside a network) against our float convolution (im2col + SGEMM).
using BenchmarkDotNet.Attributes;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Benchmarks;

/// <summary>One class per stage so Channels and Size stay named parameters; Batch 1 and 32, Threads 1 and 2.</summary>
public abstract class BinaryConvBenchmarks
{
    private Conv2dShape shape;
    private float[] input = [], weights = [], bias = [], output = [], floatScratch = [];
    private ulong[] packedInput = [], binaryScratch = [], packedOutput = [];
    private int[] thresholds = [];
    private BinaryConv2dPlan plan = null!;

    public abstract int Channels { get; set; }
    public abstract int Size { get; set; }

    [Params(1, 32)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        shape = Conv2dShape.Square(Batch, Size, Channels, Channels, kernel: 3, stride: 1, pad: 1);
        input = XnorGemmBenchmarks.RandomFloats(random, Batch * Size * Size * Channels);
        weights = XnorGemmBenchmarks.RandomFloats(random, Channels * 9 * Channels);
        bias = XnorGemmBenchmarks.RandomFloats(random, Channels);
        output = new float[shape.OutputPositions * Channels];
        floatScratch = new float[FloatConv2d.ScratchLength(shape)];

        int words = SignPacking.WordsFor(Channels);
        packedInput = new ulong[Batch * Size * Size * words];
        SignPacking.Pack(input, Batch * Size * Size, Channels, packedInput);
        plan = new BinaryConv2dPlan(shape, BinaryConvWeights.FromFloats(weights, Channels, 3, 3, Channels));
        binaryScratch = new ulong[BinaryConv2d.ScratchLength(shape)];
        packedOutput = new ulong[shape.OutputPositions * words];
        thresholds = new int[Channels];
        for (int o = 0; o < Channels; o++)
            thresholds[o] = random.Next(-9, 10);
    }

    [Benchmark(Baseline = true)]
    public void FloatConv()
        => FloatConv2d.Forward(shape, input, weights, bias, output, floatScratch, threads: Threads);

    [Benchmark]
    public void BinaryConv()
        => BinaryConv2d.Forward(packedInput, plan, binaryScratch,
            XnorOutput.Threshold(packedOutput, SignPacking.WordsFor(Channels), thresholds), threads: Threads);
}

/// <summary>Stage 1: 64 → 64 channels at 32×32.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class BinaryConvStage1Benchmarks : BinaryConvBenchmarks
{
    [Params(64)] public override int Channels { get; set; }
    [Params(32)] public override int Size { get; set; }
}

/// <summary>Stage 2: 128 → 128 channels at 16×16.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class BinaryConvStage2Benchmarks : BinaryConvBenchmarks
{
    [Params(128)] public override int Channels { get; set; }
    [Params(16)] public override int Size { get; set; }
}

/// <summary>Stage 3: 256 → 256 channels at 8×8.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class BinaryConvStage3Benchmarks : BinaryConvBenchmarks
{
    [Params(256)] public override int Channels { get; set; }
    [Params(8)] public override int Size { get; set; }
}

/// <summary>Stage 4: 512 → 512 channels at 4×4.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class BinaryConvStage4Benchmarks : BinaryConvBenchmarks
{
    [Params(512)] public override int Channels { get; set; }
    [Params(4)] public override int Size { get; set; }
}
