// The GPU kernel checks of the device check: every kernel against its CPU reference, bit-exact for the binary paths.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.GpuCheck;

/// <summary>
/// The same checks as tests/BnnDsl.Kernels.Gpu.Tests, small shapes with tails, run on one device: sign packing, XNOR
/// GEMM for every tile shape (int32 and threshold bits), bit-serial GEMM, binary convolution and the training kernels
/// (<see cref="GpuTrainingChecks"/>), float GEMM (tiled, and cuBLAS on CUDA). Each writes one line.
/// </summary>
internal static class GpuKernelChecks
{
    private static readonly (int M, int N, int K)[] XnorShapes =
        [(1, 1, 1), (5, 7, 64), (33, 17, 257), (70, 65, 64 * 9 + 17), (129, 40, 200)];

    /// <summary>Runs every check; returns how many failed.</summary>
    public static int Run(GpuDevice device, TextWriter output)
    {
        int failed = 0;
        failed += Check(output, "sign packing", () => SignPacking(device));
        failed += Check(output, "xnor gemm int32, Tile64x64", () => XnorInt32<Tile64x64>(device));
        failed += Check(output, "xnor gemm int32, Tile128x64", () => XnorInt32<Tile128x64>(device));
        failed += Check(output, "xnor gemm int32, Tile32x32", () => XnorInt32<Tile32x32>(device));
        failed += Check(output, "xnor gemm threshold bits", () => XnorThreshold(device));
        failed += Check(output, "bit-serial gemm A2W1, Tile64x64", () => BitSerial<A2W1, Tile64x64>(device));
        failed += Check(output, "bit-serial gemm A4W4, Tile32x32", () => BitSerial<A4W4, Tile32x32>(device));
        failed += Check(output, "bit-serial gemm A8W8, Tile32x32", () => BitSerial<A8W8, Tile32x32>(device));
        failed += Check(output, "binary conv int32, Tile64x64, both paddings", () => GpuTrainingChecks.BinaryConv(device, thresholdBits: false));
        failed += Check(output, "binary conv threshold bits, Tile32x32, both paddings", () => GpuTrainingChecks.BinaryConv(device, thresholdBits: true));
        failed += Check(output, "training sign (STE) and relu", () => GpuTrainingChecks.SignAndRelu(device));
        failed += Check(output, "training batch norm", () => GpuTrainingChecks.BatchNorm(device));
        failed += Check(output, "training max / avg / global avg pooling", () => GpuTrainingChecks.Pooling(device));
        failed += Check(output, "training softmax cross-entropy", () => GpuTrainingChecks.SoftmaxCrossEntropy(device));
        failed += Check(output, "training adam", () => GpuTrainingChecks.Adam(device));
        failed += Check(output, "training sgd (Nesterov momentum)", () => GpuTrainingChecks.Sgd(device));
        failed += Check(output, "sgemm tiled", () => Sgemm(device, GpuSgemmEngine.Tiled));
        if (device.IsCuBlasAvailable)
            failed += Check(output, "sgemm cuBLAS", () => Sgemm(device, GpuSgemmEngine.CuBlas));
        else if (device.Kind == GpuDeviceKind.Cuda)
            output.WriteLine($"check sgemm cuBLAS: skipped ({device.CuBlasProblem})");
        return failed;
    }

    /// <summary>
    /// The tensor-core XNOR GEMM's check, kept apart from <see cref="Run"/> so that a failure (an inline-PTX problem on
    /// one driver) leaves the other timings standing: true when it ran and matched, false when it failed or the device
    /// has no 1-bit tensor cores (both written).
    /// </summary>
    public static bool TensorCores(GpuDevice device, TextWriter output)
    {
        if (!GpuXnorGemmTensorCore.IsSupported(device))
        {
            output.WriteLine($"check xnor gemm tensor cores: skipped ({device.Name} is older than compute capability 8.0)");
            return false;
        }
        return Check(output, "xnor gemm tensor cores (mma m16n8k256 .b1)", () => XnorTensorCore(device)) == 0;
    }

    private static int Check(TextWriter output, string name, Func<string?> check)
    {
        string? problem;
        try
        {
            problem = check();
        }
        catch (Exception e)
        {
            // ILGPU wraps the cause (a missing method, a driver error) in its compiler exception: show the innermost too.
            var cause = e.GetBaseException();
            problem = cause == e ? $"{e.GetType().Name}: {e.Message}" : $"{e.GetType().Name}: {e.Message} <- {cause.GetType().Name}: {cause.Message}";
        }
        output.WriteLine(problem is null ? $"check {name}: ok" : $"check {name}: FAILED ({problem})");
        return problem is null ? 0 : 1;
    }

    private static string? SignPacking(GpuDevice device)
    {
        var random = new Random(31);
        foreach (int channels in new[] { 1, 31, 64, 65, 129, 577 })
        {
            int rows = 3;
            var x = new float[rows * channels];
            for (int i = 0; i < x.Length; i++)
                x[i] = random.Next(10) == 0 ? 0f : random.NextSingle() * 2f - 1f;
            var expected = SignPackingReference.Pack(x, rows, channels);
            using var source = device.Accelerator.Allocate1D(x);
            using var packed = device.Allocate<ulong>(expected.Length);
            GpuSignPacking.Pack(device, source.View, rows, channels, packed.View);
            if (!expected.AsSpan().SequenceEqual(packed.GetAsArray1D()))
                return $"channels {channels} differs from SignPackingReference";
        }
        return null;
    }

    private static string? XnorInt32<TTile>(GpuDevice device) where TTile : struct, IGemmTile
    {
        var random = new Random(11);
        foreach (var (m, n, k) in XnorShapes)
        {
            int words = (k + 63) / 64;
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            var expected = XnorGemmReference.Multiply(a, m, words, b, n, words, words, k);
            if (!expected.AsSpan().SequenceEqual(XnorDots<TTile>(device, a, m, b, n, k)))
                return $"m={m} n={n} k={k} differs from XnorGemmReference";
        }
        return null;
    }

    /// <summary>GpuXnorGemm.Multiply on host packed rows of <paramref name="k"/> bits: the m × n int32 dots.</summary>
    public static int[] XnorDots<TTile>(GpuDevice device, ulong[] a, int m, ulong[] b, int n, int k) where TTile : struct, IGemmTile
    {
        using var aBuffer = device.Accelerator.Allocate1D(a);
        using var bBuffer = device.Accelerator.Allocate1D(b);
        using var c = device.Allocate<int>(m * n);
        GpuXnorGemm.Multiply<TTile>(device, aBuffer.View, m, bBuffer.View, n, k, c.View);
        return c.GetAsArray1D();
    }

    private static string? XnorTensorCore(GpuDevice device)
    {
        var random = new Random(22);
        foreach (var (m, n, k) in XnorShapes)
        {
            int words = (k + 63) / 64;
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            if (!XnorGemmReference.Multiply(a, m, words, b, n, words, words, k).AsSpan().SequenceEqual(TensorCoreDots(device, a, m, b, n, k)))
                return $"m={m} n={n} k={k} differs from XnorGemmReference";
        }
        return null;
    }

    /// <summary>GpuXnorGemmTensorCore.Multiply on host packed rows of <paramref name="k"/> bits: the m × n int32 dots.</summary>
    public static int[] TensorCoreDots(GpuDevice device, ulong[] a, int m, ulong[] b, int n, int k)
    {
        using var aBuffer = device.Accelerator.Allocate1D(a);
        using var bBuffer = device.Accelerator.Allocate1D(b);
        using var c = device.Allocate<int>((long)m * n);
        c.View.MemSet(0x7F);  // stale values must not survive: every output is written
        GpuXnorGemmTensorCore.Multiply(device, aBuffer.View, m, bBuffer.View, n, k, c.View);
        return c.GetAsArray1D();
    }

    private static string? XnorThreshold(GpuDevice device)
    {
        var random = new Random(14);
        foreach (var (m, n, k) in XnorShapes)
        {
            int words = (k + 63) / 64;
            var a = RandomOperands.PackedRows(random, m, k);
            var b = RandomOperands.PackedRows(random, n, k);
            var threshold = new int[n];
            for (int j = 0; j < n; j++)
                threshold[j] = random.Next(-k, k + 1);
            var expected = XnorGemmReference.Threshold(XnorGemmReference.Multiply(a, m, words, b, n, words, words, k), m, n, threshold);
            using var aBuffer = device.Accelerator.Allocate1D(a);
            using var bBuffer = device.Accelerator.Allocate1D(b);
            using var thresholdBuffer = device.Accelerator.Allocate1D(threshold);
            using var bits = device.Allocate<ulong>(expected.Length);
            GpuXnorGemm.MultiplyThreshold<Tile64x64>(device, aBuffer.View, m, bBuffer.View, n, k, thresholdBuffer.View, bits.View);
            if (!expected.AsSpan().SequenceEqual(bits.GetAsArray1D()))
                return $"m={m} n={n} k={k} differs from XnorGemmReference.Threshold";
        }
        return null;
    }

    private static string? BitSerial<TBits, TTile>(GpuDevice device) where TBits : struct, IBitWidths where TTile : struct, IGemmTile
    {
        var random = new Random(51);
        int ka = default(TBits).ActivationBits, kw = default(TBits).WeightBits;
        foreach (var (m, n, k) in XnorShapes)
        {
            var aCodes = Codes(random, m * k, ka);
            var bCodes = Codes(random, n * k, kw);
            var expected = BitSerialGemmReference.Multiply(aCodes, m, bCodes, n, k, kw);
            using var a = device.Accelerator.Allocate1D(Planes(aCodes, m, k, ka));
            using var b = device.Accelerator.Allocate1D(Planes(bCodes, n, k, kw));
            using var d = device.Allocate<int>(m * n);
            GpuBitSerialGemm.Multiply<TBits, TTile>(device, a.View, m, b.View, n, k, d.View);
            if (!expected.AsSpan().SequenceEqual(d.GetAsArray1D()))
                return $"m={m} n={n} k={k} differs from BitSerialGemmReference";
        }
        return null;
    }

    private static string? Sgemm(GpuDevice device, GpuSgemmEngine engine)
    {
        var random = new Random(41);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (17, 9, 17), (65, 66, 9) })
            foreach (bool transposeA in new[] { false, true })
                foreach (bool transposeB in new[] { false, true })
                {
                    var a = RandomOperands.UniformFloats(random, m * k);
                    var b = RandomOperands.UniformFloats(random, k * n);
                    var expected = new float[m * n];
                    int lda = transposeA ? m : k, ldb = transposeB ? k : n;
                    SgemmReference.Multiply(transposeA, transposeB, m, n, k, 1f, a, lda, b, ldb, 0f, expected, n);
                    using var aBuffer = device.Accelerator.Allocate1D(a);
                    using var bBuffer = device.Accelerator.Allocate1D(b);
                    using var c = device.Allocate<float>(m * n);
                    GpuSgemm.Multiply(device, transposeA, transposeB, m, n, k, 1f, aBuffer.View, lda, bBuffer.View, ldb, 0f, c.View, n, engine);
                    var actual = c.GetAsArray1D();
                    for (int i = 0; i < expected.Length; i++)
                        if (MathF.Abs(expected[i] - actual[i]) > 1e-5f * (k + 4) * (1f + MathF.Abs(expected[i])))
                            return $"m={m} n={n} k={k} transposeA={transposeA} transposeB={transposeB}: element {i} is {actual[i]}, SgemmReference {expected[i]}";
                }
        return null;
    }

    private static byte[] Codes(Random random, int count, int bits)
    {
        var codes = new byte[count];
        for (int i = 0; i < count; i++)
            codes[i] = (byte)random.Next(1 << bits);
        return codes;
    }

    /// <summary>The BitPlanes row layout, bit by bit: row r, plane p, word w at (r * bits + p) * words + w.</summary>
    public static ulong[] Planes(byte[] codes, int rows, int k, int bits)
    {
        int words = (k + 63) / 64;
        var planes = new ulong[rows * bits * words];
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < bits; p++)
                for (int c = 0; c < k; c++)
                    if (((codes[r * k + c] >> p) & 1) != 0)
                        planes[(r * bits + p) * words + c / 64] |= 1UL << (c % 64);
        return planes;
    }
}
