// Byte GEMM against the bit-serial GEMM on the convolution GEMMs of ResNet-18 CIFAR's four stages, at 2x2 and 4x4 bits.
using BenchmarkDotNet.Attributes;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Benchmarks;

/// <summary>
/// <c>D = A · Bᵀ</c> (int32 output) for one image's 3 × 3 stage convolution of ResNet-18 CIFAR: M output positions,
/// K = 9 × channels, N filters (stage 1: 32 × 32 positions, K 576, N 64; stage 2: 16 × 16, 1152, 128; stage 3:
/// 8 × 8, 2304, 256; stage 4: 4 × 4, 4608, 512). Baseline: the bit-serial GEMM (AVX2) on the same codes, whose cost
/// grows with ActBits × WeightBits plane pairs; the byte GEMM's does not. Both give the same dots. One MAC is
/// 2 ops: ops/s = 2 M N K / time.
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class ByteGemmBenchmarks
{
    private ulong[] planes = [];
    private int lda;
    private BitSerialPackedB bitSerialB = null!;
    private byte[] codes = [];
    private BytePackedB byteB = null!;
    private int[] c = [];

    /// <summary>ResNet-18 CIFAR stage: 1..4.</summary>
    [Params(1, 2, 3, 4)]
    public int Stage { get; set; }

    /// <summary>Activation and weight bits (the same width for both).</summary>
    [Params(2, 4)]
    public int Bits { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private int M => (64 >> Stage) * (64 >> Stage);

    private int K => 9 * (32 << Stage);

    private int N => 32 << Stage;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        codes = new byte[M * K];
        for (int i = 0; i < codes.Length; i++)
            codes[i] = (byte)random.Next(1 << Bits);
        var weightCodes = new byte[N * K];
        for (int i = 0; i < weightCodes.Length; i++)
            weightCodes[i] = (byte)random.Next(1 << Bits);
        lda = BitPlanes.RowWords(K, Bits);
        planes = new ulong[M * lda];
        BitPlanes.PackActivationCodes(codes, M, K, Bits, planes);
        bitSerialB = BitSerialPackedB.PackCodes(weightCodes, N, K, Bits);
        byteB = BytePackedB.PackCodes(weightCodes, N, K, Bits);
        c = new int[M * N];
    }

    [Benchmark(Baseline = true)]
    public void BitSerialAvx2() => BitSerialGemm.Multiply(planes, M, lda, Bits, bitSerialB, XnorOutput.Int32(c, N), KernelPath.Avx2, Threads);

    [Benchmark]
    public void ByteAvx2() => ByteGemm.Multiply(codes, M, K, Bits, byteB, XnorOutput.Int32(c, N), KernelPath.Avx2, Threads);
}
