// GPU float GEMM (our tiled kernel on every accelerator, cuBLAS on CUDA) against the double-precision reference.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuSgemmTests
{
    public static TheoryData<GpuDeviceKind, GpuSgemmEngine> Engines()
    {
        var data = new TheoryData<GpuDeviceKind, GpuSgemmEngine>();
        foreach (var kind in GpuDevice.Present)
        {
            data.Add(kind, GpuSgemmEngine.Tiled);
            if (kind == GpuDeviceKind.Cuda && GpuTestDevices.Get(kind).IsCuBlasAvailable)
                data.Add(kind, GpuSgemmEngine.CuBlas);
        }
        return data;
    }

    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Engines))]
    public void MatchesReferenceForEveryTransposeAndTail(GpuDeviceKind kind, GpuSgemmEngine engine)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(41);
        // K around the tiles' Depth (4 or 8 floats per step) and m, n around the 64 × 64 tile; K stays small because every
        // step is a group barrier, which the CPU accelerator pays for with OS threads.
        foreach (var (m, n, k) in new[] { (1, 1, 1), (3, 5, 7), (17, 9, 17), (65, 66, 9), (70, 129, 8) })
            foreach (bool transposeA in new[] { false, true })
                foreach (bool transposeB in new[] { false, true })
                    Check(device, engine, random, transposeA, transposeB, m, n, k, alpha: 1f, beta: 0f, pad: 0);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void AlphaBetaAndLeadingDimensionsMatchReference(GpuDeviceKind kind, GpuSgemmEngine engine)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(42);
        Check(device, engine, random, false, true, 37, 23, 13, alpha: 0.5f, beta: -1.5f, pad: 3);
        Check(device, engine, random, true, false, 23, 37, 13, alpha: -2f, beta: 0.25f, pad: 5);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryTileShapeMatchesReference(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(43);
        CheckTiled<Tile64x64>(device, random);
        CheckTiled<Tile128x64>(device, random);
        CheckTiled<Tile32x32>(device, random);
    }

    [Fact]
    public void CuBlasOnTheCpuAcceleratorIsRejectedWithTheFix()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        using var buffer = device.Allocate<float>(4);
        var error = Assert.Throws<InvalidOperationException>(() => GpuSgemm.Multiply(device, false, false, 2, 2, 1, 1f,
            buffer.View, 1, buffer.View, 2, 0f, buffer.View, 2, GpuSgemmEngine.CuBlas));
        Assert.Contains("GpuSgemmEngine.Tiled", error.Message);
        Assert.False(device.IsCuBlasAvailable);
        Assert.Contains("CUDA", device.CuBlasProblem);
    }

    private static void CheckTiled<TTile>(GpuDevice device, Random random) where TTile : struct, IGemmTile
    {
        int m = 131, n = 67, k = 11;
        var a = RandomOperands.Floats(random, m * k);
        var b = RandomOperands.Floats(random, k * n);
        var expected = new float[m * n];
        SgemmReference.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, expected, n);
        using var aBuffer = device.Accelerator.Allocate1D(a);
        using var bBuffer = device.Accelerator.Allocate1D(b);
        using var c = device.Allocate<float>(m * n);
        GpuSgemm.MultiplyTiled<TTile>(device, false, false, m, n, k, 1f, aBuffer.View, k, bBuffer.View, n, 0f, c.View, n);
        AssertClose(expected, c.GetAsArray1D(), k);
    }

    private static void Check(GpuDevice device, GpuSgemmEngine engine, Random random, bool transposeA, bool transposeB,
        int m, int n, int k, float alpha, float beta, int pad)
    {
        int lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad;
        var a = RandomOperands.Floats(random, (transposeA ? k : m) * lda);
        var b = RandomOperands.Floats(random, (transposeB ? n : k) * ldb);
        var c = RandomOperands.Floats(random, m * ldc);
        if (beta == 0f)
            c[0] = float.NaN;  // beta == 0 must ignore C's old contents, NaN included
        var expected = (float[])c.Clone();
        SgemmReference.Multiply(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);

        using var aBuffer = device.Accelerator.Allocate1D(a);
        using var bBuffer = device.Accelerator.Allocate1D(b);
        using var cBuffer = device.Accelerator.Allocate1D(c);
        GpuSgemm.Multiply(device, transposeA, transposeB, m, n, k, alpha, aBuffer.View, lda, bBuffer.View, ldb, beta, cBuffer.View, ldc, engine);
        var actual = cBuffer.GetAsArray1D();
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++)
                Assert.Equal(c[i * ldc + j], actual[i * ldc + j]);  // padding columns untouched
        AssertClose(expected, actual, k);
    }

    private static void AssertClose(float[] expected, float[] actual, int k)
    {
        Assert.Equal(expected.Length, actual.Length);
        float tolerance = 1e-5f * (k + 4);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance * (1f + MathF.Abs(expected[i])),
                $"element {i}: expected {expected[i]}, got {actual[i]}");
    }
}
