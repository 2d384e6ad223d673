// XNOR GEMM on the 1-bit tensor cores (mma.sync m16n8k256 .b1, AND + popcount, sm_80 and later) through ILGPU's
// inline PTX, with an exact warp-shuffle emulation of the same instruction where PTX cannot run (the CPU accelerator).
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// <c>dot[i, j] = K − 2 · popcount(A_i XOR B_j)</c>, the numbers of <see cref="GpuXnorGemm"/>, computed with the
/// tensor cores' 1-bit matrix multiply. Since sm_90 offers only <c>.and.popc</c> (no XOR), each warp accumulates
/// <c>p_ab = popcount(A_i AND B_j)</c> with <c>mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc</c> and the row
/// and column popcounts <c>p_a</c>, <c>p_b</c> from the fragments it already holds, then writes
/// <c>K − 2·p_a − 2·p_b + 4·p_ab</c> (popcount(a XOR b) = p_a + p_b − 2·p_ab). Tail bits are zero, so they add nothing.
/// A group of four warps computes a 128 × 64 block; each warp a 64 × 32 block of 4 × 4 instruction tiles, whose
/// fragments every thread loads straight from global memory (no shared-memory staging yet).
/// On a device without PTX (ILGPU's CPU accelerator) every <c>mma</c> is replaced by <see cref="EmulateMma"/>, which
/// computes the instruction's documented result from the same fragment registers through warp shuffles, so tests
/// on the CPU accelerator check the fragment layout this kernel assumes; on CUDA it needs compute capability 8.0+.
/// </summary>
public static class GpuXnorGemmTensorCore
{
    /// <summary>Rows of one instruction tile (m16).</summary>
    private const int TileM = 16;

    /// <summary>Columns of one instruction tile (n8).</summary>
    private const int TileN = 8;

    /// <summary>Instruction tiles per warp along M and along N.</summary>
    private const int WarpTilesM = 4, WarpTilesN = 4;

    /// <summary>Warps per group along M and along N (a group is 4 warps, 128 threads).</summary>
    private const int GroupWarpsM = 2, GroupWarpsN = 2;

    /// <summary>Rows of A one group computes.</summary>
    public const int BlockRows = TileM * WarpTilesM * GroupWarpsM;

    /// <summary>Columns (rows of B) one group computes.</summary>
    public const int BlockCols = TileN * WarpTilesN * GroupWarpsN;

    /// <summary>
    /// Whether <paramref name="device"/> can run the kernel: the CPU accelerator always (emulated), CUDA from compute
    /// capability 8.0 (the first with 1-bit m16n8k256).
    /// </summary>
    public static bool IsSupported(GpuDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Accelerator is not CudaAccelerator cuda || cuda.Architecture is { Major: >= 8 };
    }

    /// <summary>Writes the int32 dot products into <paramref name="c"/> (m × n, row-major); operands as in <see cref="GpuXnorGemm.Multiply"/>.</summary>
    /// <exception cref="NotSupportedException">A CUDA device older than compute capability 8.0.</exception>
    public static void Multiply(GpuDevice device, ArrayView<ulong> a, int m, ArrayView<ulong> b, int n, int kBits, ArrayView<int> c)
    {
        GpuChecks.Device(device, nameof(device));
        if (!IsSupported(device))
            throw new NotSupportedException(
                $"{device.Name} has no 1-bit tensor-core mma (it needs compute capability 8.0 or later); use GpuXnorGemm.Multiply there.");
        int kWords = GpuXnorGemm.Check(device, a, m, b, n, kBits);
        GpuChecks.Length(c, (long)m * n, nameof(c), "m * n");
        GpuChecks.FitsInt((long)m * n, "m * n");
        var kernel = device.Kernel("xnor-tensor-core", typeof(GpuXnorGemmTensorCore), accelerator =>
            accelerator.LoadStreamKernel<ArrayView<ulong>, ArrayView<ulong>, ArrayView<int>, int, int, int, int>(Kernel));
        var grid = new Index2D((n + BlockCols - 1) / BlockCols, (m + BlockRows - 1) / BlockRows);
        kernel(new KernelConfig(grid, new Index2D(32 * GroupWarpsN * GroupWarpsM, 1)), a, b, c, m, n, kWords, kBits);
    }

    /// <summary>
    /// One group per 128 × 64 block. Fragment layout of m16n8k256 (PTX ISA, "matrix fragments for mma.m16n8k256"),
    /// with g = lane / 4 and t = lane % 4: A registers a0/a2 hold row g, a1/a3 row g + 8, a0/a1 bits 32t..32t+31 of the
    /// 256-bit step and a2/a3 bits 128 + 32t..; B registers b0/b1 hold column g, bits 32t.. and 128 + 32t..; the
    /// accumulators c0/c1 are row g, columns 2t and 2t + 1, and c2/c3 the same columns of row g + 8.
    /// </summary>
    private static void Kernel(ArrayView<ulong> a, ArrayView<ulong> b, ArrayView<int> c, int m, int n, int kWords, int kBits)
    {
        int lane = Warp.LaneIdx, warp = Warp.WarpIdx, g = lane >> 2, t = lane & 3;
        int warpRow = Grid.IdxY * BlockRows + (warp / GroupWarpsN) * (TileM * WarpTilesM);
        int warpCol = Grid.IdxX * BlockCols + (warp % GroupWarpsN) * (TileN * WarpTilesN);

        var acc = LocalMemory.Allocate<int>(WarpTilesM * WarpTilesN * 4);
        var fragA = LocalMemory.Allocate<uint>(WarpTilesM * 4);
        var fragB = LocalMemory.Allocate<uint>(WarpTilesN * 2);
        var rowOnes = LocalMemory.Allocate<int>(WarpTilesM * 2);
        var colOnes = LocalMemory.Allocate<int>(WarpTilesN);
        for (int i = 0; i < WarpTilesM * WarpTilesN * 4; i++)
            acc[i] = 0;
        for (int i = 0; i < WarpTilesM * 2; i++)
            rowOnes[i] = 0;
        for (int j = 0; j < WarpTilesN; j++)
            colOnes[j] = 0;

        for (int k0 = 0; k0 < kWords; k0 += 4)
        {
            for (int i = 0; i < WarpTilesM; i++)
            {
                int row = warpRow + i * TileM + g;
                uint a0 = Chunk(a, row, m, kWords, k0, t), a1 = Chunk(a, row + 8, m, kWords, k0, t);
                uint a2 = Chunk(a, row, m, kWords, k0, 4 + t), a3 = Chunk(a, row + 8, m, kWords, k0, 4 + t);
                fragA[i * 4] = a0;
                fragA[i * 4 + 1] = a1;
                fragA[i * 4 + 2] = a2;
                fragA[i * 4 + 3] = a3;
                rowOnes[i * 2] += IntrinsicMath.PopCount(a0) + IntrinsicMath.PopCount(a2);
                rowOnes[i * 2 + 1] += IntrinsicMath.PopCount(a1) + IntrinsicMath.PopCount(a3);
            }
            for (int j = 0; j < WarpTilesN; j++)
            {
                int col = warpCol + j * TileN + g;
                uint b0 = Chunk(b, col, n, kWords, k0, t), b1 = Chunk(b, col, n, kWords, k0, 4 + t);
                fragB[j * 2] = b0;
                fragB[j * 2 + 1] = b1;
                colOnes[j] += IntrinsicMath.PopCount(b0) + IntrinsicMath.PopCount(b1);
            }
            for (int i = 0; i < WarpTilesM; i++)
                for (int j = 0; j < WarpTilesN; j++)
                {
                    int o = (i * WarpTilesN + j) * 4;
                    Ref<int> c0 = acc[o], c1 = acc[o + 1], c2 = acc[o + 2], c3 = acc[o + 3];
                    Mma(ref c0, ref c1, ref c2, ref c3, fragA[i * 4], fragA[i * 4 + 1], fragA[i * 4 + 2], fragA[i * 4 + 3],
                        fragB[j * 2], fragB[j * 2 + 1]);
                    acc[o] = c0.Value;
                    acc[o + 1] = c1.Value;
                    acc[o + 2] = c2.Value;
                    acc[o + 3] = c3.Value;
                }
        }

        // Row g's (and g + 8's) popcount is spread over the four lanes of group g, column g's likewise: sum them, then
        // fetch the popcounts of this lane's output columns 2t and 2t + 1 from the lanes of groups 2t and 2t + 1.
        for (int i = 0; i < WarpTilesM * 2; i++)
        {
            int ones = rowOnes[i];
            ones += Warp.ShuffleXor(ones, 1);
            ones += Warp.ShuffleXor(ones, 2);
            rowOnes[i] = ones;
        }
        for (int j = 0; j < WarpTilesN; j++)
        {
            int ones = colOnes[j];
            ones += Warp.ShuffleXor(ones, 1);
            ones += Warp.ShuffleXor(ones, 2);
            int even = Warp.Shuffle(ones, 2 * t * 4), odd = Warp.Shuffle(ones, (2 * t + 1) * 4);
            for (int i = 0; i < WarpTilesM; i++)
            {
                int o = (i * WarpTilesN + j) * 4, row = warpRow + i * TileM + g, col = warpCol + j * TileN + 2 * t;
                Store(c, m, n, kBits, row, col, rowOnes[i * 2], even, acc[o]);
                Store(c, m, n, kBits, row, col + 1, rowOnes[i * 2], odd, acc[o + 1]);
                Store(c, m, n, kBits, row + 8, col, rowOnes[i * 2 + 1], even, acc[o + 2]);
                Store(c, m, n, kBits, row + 8, col + 1, rowOnes[i * 2 + 1], odd, acc[o + 3]);
            }
        }
    }

    /// <summary>32-bit chunk <paramref name="chunk"/> (0..7) of the 256-bit step at word <paramref name="k0"/> of a row; zero past the rows or K.</summary>
    private static uint Chunk(ArrayView<ulong> matrix, int row, int rows, int kWords, int k0, int chunk)
    {
        int word = k0 + (chunk >> 1);
        if (row >= rows || word >= kWords)
            return 0;
        return (uint)(matrix[(long)row * kWords + word] >> (32 * (chunk & 1)));
    }

    private static void Store(ArrayView<int> c, int m, int n, int kBits, int row, int col, int rowOnes, int colOnes, int both)
    {
        if (row < m && col < n)
            c[(long)row * n + col] = kBits - 2 * rowOnes - 2 * colOnes + 4 * both;
    }

    /// <summary>c += popcount(A AND B) for one m16n8k256 tile: the tensor-core instruction, or its emulation without PTX.</summary>
    private static void Mma(ref Ref<int> c0, ref Ref<int> c1, ref Ref<int> c2, ref Ref<int> c3,
        uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        if (CudaAsm.IsSupported)
        {
            Input<uint> ia0 = a0, ia1 = a1, ia2 = a2, ia3 = a3, ib0 = b0, ib1 = b1;
            CudaAsm.EmitRef(
                "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                ref c0, ref c1, ref c2, ref c3, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1);
        }
        else
        {
            EmulateMma(ref c0.Value, ref c1.Value, ref c2.Value, ref c3.Value, a0, a1, a2, a3, b0, b1);
        }
    }

    /// <summary>
    /// The documented result of the m16n8k256 AND-popcount mma from the warp's fragment registers: this lane's four
    /// accumulators gain popcount(A[row] AND B[col]) over 256 bits, the rows' chunks gathered from the four lanes of
    /// group g and the columns' from the lanes of groups 2t and 2t + 1. Every lane of the warp must call it.
    /// </summary>
    private static void EmulateMma(ref int c0, ref int c1, ref int c2, ref int c3, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        for (int s = 0; s < 4; s++)
        {
            int rowLane = g * 4 + s, evenLane = 2 * t * 4 + s, oddLane = (2 * t + 1) * 4 + s;
            uint top0 = Warp.Shuffle(a0, rowLane), bottom0 = Warp.Shuffle(a1, rowLane);
            uint top1 = Warp.Shuffle(a2, rowLane), bottom1 = Warp.Shuffle(a3, rowLane);
            uint even0 = Warp.Shuffle(b0, evenLane), even1 = Warp.Shuffle(b1, evenLane);
            uint odd0 = Warp.Shuffle(b0, oddLane), odd1 = Warp.Shuffle(b1, oddLane);
            c0 += IntrinsicMath.PopCount(top0 & even0) + IntrinsicMath.PopCount(top1 & even1);
            c1 += IntrinsicMath.PopCount(top0 & odd0) + IntrinsicMath.PopCount(top1 & odd1);
            c2 += IntrinsicMath.PopCount(bottom0 & even0) + IntrinsicMath.PopCount(bottom1 & even1);
            c3 += IntrinsicMath.PopCount(bottom0 & odd0) + IntrinsicMath.PopCount(bottom1 & odd1);
        }
    }
}
