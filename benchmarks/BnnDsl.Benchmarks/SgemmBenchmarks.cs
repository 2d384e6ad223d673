// SGEMM on the two reference shapes, 1 and 2 threads: the AVX2 path (baseline) and, where it is real, AVX-512.
using BenchmarkDotNet.Attributes;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Benchmarks;

/// <summary>
/// <c>C = A × B</c> with A m × k, B k × n (row-major, no transposes, beta 0). GFLOP/s = 2·M·N·K / time; one
/// core of the Zen 3-class development machine peaks at 2 FMA × 8 lanes × 2 flops × ~3.1 GHz ≈ 99 GFLOP/s.
/// The scalar path is left out: at these sizes it runs about ten times longer and says nothing new.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(KernelBenchmarkConfig))]
public class SgemmBenchmarks
{
    /// <summary>An M × N × K problem size.</summary>
    public readonly record struct Shape(int M, int N, int K)
    {
        /// <inheritdoc/>
        public override string ToString() => $"{M}x{N}x{K}";
    }

    /// <summary>A large square-ish product and a conv-like product (M = output positions, K = 3 × 3 × 256).</summary>
    public static IEnumerable<Shape> Shapes => [new(1024, 1024, 4096), new(256, 1024, 2304)];

    [ParamsSource(nameof(Shapes))]
    public Shape Size { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] a = [], b = [], c = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        a = new float[Size.M * Size.K];
        b = new float[Size.K * Size.N];
        c = new float[Size.M * Size.N];
        for (int i = 0; i < a.Length; i++)
            a[i] = random.NextSingle() - 0.5f;
        for (int i = 0; i < b.Length; i++)
            b[i] = random.NextSingle() - 0.5f;
    }

    [Benchmark(Baseline = true)]
    public void SgemmAvx2() => Run(KernelPath.Avx2);

    /// <summary>The AVX-512 micro-kernel; benchmarked only where the processor has AVX-512.</summary>
    [Benchmark]
    public void SgemmAvx512() => Run(KernelPath.Avx512);

    private void Run(KernelPath path)
        => Sgemm.Multiply(false, false, Size.M, Size.N, Size.K, 1f, a, Size.K, b, Size.N, 0f, c, Size.N, path, Threads);
}
