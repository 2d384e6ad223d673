// XNOR-popcount GEMM (each kernel path) against our SGEMM on the same M, N, K (K in bits for XNOR, in floats
// for SGEMM), 1 and 2 threads. A binary multiply-accumulate counts as 2 ops, like an FMA.
using BenchmarkDotNet.Attributes;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Benchmarks;

/// <summary>The two shapes of the issue, one class each so M, N and K stay named parameters.</summary>
public abstract class XnorGemmBenchmarks
{
    private float[] floatA = [], floatB = [], floatC = [];
    private ulong[] packedA = [];
    private XnorPackedB packedB = null!;
    private int[] dots = [];

    public abstract int M { get; set; }
    public abstract int N { get; set; }
    public abstract int K { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        floatA = RandomFloats(random, M * K);
        floatB = RandomFloats(random, N * K);
        floatC = new float[M * N];
        int words = SignPacking.WordsFor(K);
        packedA = new ulong[M * words];
        var bRows = new ulong[N * words];
        SignPacking.Pack(floatA, M, K, packedA);
        SignPacking.Pack(floatB, N, K, bRows);
        packedB = XnorPackedB.Pack(bRows, N, words, K);
        dots = new int[M * N];
    }

    [Benchmark(Baseline = true)]
    public void Sgemm() => Kernels.Cpu.Sgemm.Multiply(false, true, M, N, K, 1f, floatA, K, floatB, K, 0f, floatC, N, threads: Threads);

    [Benchmark]
    public void XnorAvx512() => Xnor(KernelPath.Avx512);

    [Benchmark]
    public void XnorAvx2() => Xnor(KernelPath.Avx2);

    [Benchmark]
    public void XnorScalar() => Xnor(KernelPath.Scalar);

    private void Xnor(KernelPath path)
        => XnorGemm.Multiply(packedA, M, packedB.KWords, packedB, XnorOutput.Int32(dots, N), path: path, threads: Threads);

    internal static float[] RandomFloats(Random random, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = random.NextSingle() * 2f - 1f;
        return x;
    }
}

/// <summary>M = N = 1024, K = 4096.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class XnorGemmSquareBenchmarks : XnorGemmBenchmarks
{
    [Params(1024)] public override int M { get; set; }
    [Params(1024)] public override int N { get; set; }
    [Params(4096)] public override int K { get; set; }
}

/// <summary>The conv-shaped M = 256, N = 1024, K = 2304 (a 3×3 convolution over 256 channels).</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class XnorGemmConvShapeBenchmarks : XnorGemmBenchmarks
{
    [Params(256)] public override int M { get; set; }
    [Params(1024)] public override int N { get; set; }
    [Params(2304)] public override int K { get; set; }
}
