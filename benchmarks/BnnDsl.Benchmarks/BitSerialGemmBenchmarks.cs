// Bit-serial GEMM per hardware path at 2x2, 4x4, 8x8 and 2x1 bits, against the 1-bit XNOR GEMM of the same shape.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Benchmarks;

/// <summary>
/// <c>D = A · Bᵀ</c> with <c>ActBits</c>-bit activations and <c>WeightBits</c>-bit weights (int32 output). The
/// baseline is the XNOR GEMM (1 x 1 bits) on the same M, N, K, so Ratio shows what the extra bits cost
/// (ka * kw plane pairs: 4, 16, 64 and 2 times the binary work). One MAC is 2 ops: ops/s = 2 M N K / time.
/// </summary>
[Config(typeof(Config))]
public class BitSerialGemmBenchmarks
{
    private ulong[] xnorA = [];
    private XnorPackedB xnorB = null!;
    private int xnorWords;
    private ulong[] a = [];
    private int lda;
    private BitSerialPackedB b = null!;
    private int[] c = [];

    [Params(256)]
    public int M { get; set; }

    [Params(1024)]
    public int N { get; set; }

    [Params(2304)]
    public int K { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(2, 4, 8)]
    public int ActBits { get; set; }

    [Params(1, 2, 4, 8)]
    public int WeightBits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var x = new float[M * K];
        for (int i = 0; i < x.Length; i++)
            x[i] = random.NextSingle();
        var w = new float[N * K];
        for (int i = 0; i < w.Length; i++)
            w[i] = random.NextSingle() * 2f - 1f;

        lda = BitPlanes.RowWords(K, ActBits);
        a = new ulong[M * lda];
        BitPlanes.PackActivations(x, M, K, ActBits, a);
        b = BitSerialPackedB.Pack(w, N, K, WeightBits);

        xnorWords = SignPacking.WordsFor(K);
        xnorA = new ulong[M * xnorWords];
        SignPacking.Pack(x, M, K, xnorA);
        var signs = new ulong[N * xnorWords];
        SignPacking.Pack(w, N, K, signs);
        xnorB = XnorPackedB.Pack(signs, N, xnorWords, K);
        c = new int[M * N];
    }

    [Benchmark(Baseline = true)]
    public void Xnor() => XnorGemm.Multiply(xnorA, M, xnorWords, xnorB, XnorOutput.Int32(c, N), threads: Threads);

    [Benchmark]
    public void BitSerialScalar() => Run(KernelPath.Scalar);

    [Benchmark]
    public void BitSerialAvx2() => Run(KernelPath.Avx2);

    [Benchmark]
    public void BitSerialAvx512() => Run(KernelPath.Avx512);

    private void Run(KernelPath path) => BitSerialGemm.Multiply(a, M, lda, ActBits, b, XnorOutput.Int32(c, N), path, Threads);

    /// <summary>
    /// Keeps the bit-width pairs 2x2, 4x4, 8x8 and 2x1 out of the ActBits x WeightBits grid (the base configuration
    /// already drops paths this processor runs only in software).
    /// </summary>
    private sealed class Config : KernelBenchmarkConfig
    {
        public Config()
        {
            AddFilter(new SimpleFilter(benchmark =>
            {
                int actBits = (int)benchmark.Parameters["ActBits"];
                int weightBits = (int)benchmark.Parameters["WeightBits"];
                return actBits == weightBits || (actBits, weightBits) == (2, 1);
            }));
        }
    }
}
