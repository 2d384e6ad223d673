// XNOR GEMM on the 1-bit tensor cores (mma.sync m16n8k256 .b1, AND + popcount, sm_80 and later) through ILGPU's
// inline PTX, with an exact warp-shuffle emulation of the same instruction where PTX cannot run (the CPU accelerator).
using System.Runtime.CompilerServices;
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
/// A group of four warps computes a 128 × 64 block; each warp a 64 × 32 block of 4 × 4 instruction tiles. Per stage
/// of 512 bits of K the group copies its block's A and B rows into shared memory with coalesced 64-bit loads, then
/// every lane reads its fragments from there (rows padded so a fragment read is free of bank conflicts).
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

    /// <summary>Threads of a group (four warps).</summary>
    private const int GroupThreads = 32 * GroupWarpsM * GroupWarpsN;

    /// <summary>64-bit words of K staged in shared memory per barrier: two 256-bit mma steps.</summary>
    private const int StageWords = 8;

    /// <summary>
    /// 32-bit chunks per staged row: 16, plus 4 of padding, so that the 32 lanes reading a fragment (rows g and chunks t,
    /// 20·g + t for g &lt; 8, t &lt; 4) hit 32 different shared-memory banks.
    /// </summary>
    private const int StageStride = 2 * StageWords + 4;

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
        kernel(new KernelConfig(grid, new Index2D(GroupThreads, 1)), a, b, c, m, n, kWords, kBits);
    }

    /// <summary>
    /// One group per 128 × 64 block. Fragment layout of m16n8k256 (PTX ISA, "matrix fragments for mma.m16n8k256"),
    /// with g = lane / 4 and t = lane % 4: A registers a0/a2 hold row g, a1/a3 row g + 8, a0/a1 bits 32t..32t+31 of the
    /// 256-bit step and a2/a3 bits 128 + 32t..; B registers b0/b1 hold column g, bits 32t.. and 128 + 32t..; the
    /// accumulators c0/c1 are row g, columns 2t and 2t + 1, and c2/c3 the same columns of row g + 8.
    /// </summary>
    private static void Kernel(ArrayView<ulong> a, ArrayView<ulong> b, ArrayView<int> c, int m, int n, int kWords, int kBits)
    {
        int lane = Warp.LaneIdx, warp = Warp.WarpIdx, g = lane >> 2, t = lane & 3, thread = Group.IdxX;
        int blockRow = Grid.IdxY * BlockRows, blockCol = Grid.IdxX * BlockCols;
        int warpRow = (warp / GroupWarpsN) * (TileM * WarpTilesM), warpCol = (warp % GroupWarpsN) * (TileN * WarpTilesN);
        var sharedA = SharedMemory.Allocate<uint>(BlockRows * StageStride);
        var sharedB = SharedMemory.Allocate<uint>(BlockCols * StageStride);

        // Every accumulator, fragment and popcount is a struct field or a local, so all of them stay in registers.
        Strip s0 = default, s1 = default, s2 = default, s3 = default;
        int ones0 = 0, ones1 = 0, ones2 = 0, ones3 = 0;
        for (int k0 = 0; k0 < kWords; k0 += StageWords)
        {
            Stage(a, m, kWords, k0, blockRow, BlockRows, sharedA, thread);
            Stage(b, n, kWords, k0, blockCol, BlockCols, sharedB, thread);
            Group.Barrier();
            for (int step = 0; step < StageWords / 4 && k0 + 4 * step < kWords; step++)
            {
                int chunk = 8 * step + t;
                var b0 = LoadB(sharedB, warpCol + g, chunk);
                var b1 = LoadB(sharedB, warpCol + TileN + g, chunk);
                var b2 = LoadB(sharedB, warpCol + 2 * TileN + g, chunk);
                var b3 = LoadB(sharedB, warpCol + 3 * TileN + g, chunk);
                ones0 += b0.Ones;
                ones1 += b1.Ones;
                ones2 += b2.Ones;
                ones3 += b3.Ones;
                s0 = Strip.Step(s0, LoadA(sharedA, warpRow + g, chunk), b0, b1, b2, b3);
                s1 = Strip.Step(s1, LoadA(sharedA, warpRow + TileM + g, chunk), b0, b1, b2, b3);
                s2 = Strip.Step(s2, LoadA(sharedA, warpRow + 2 * TileM + g, chunk), b0, b1, b2, b3);
                s3 = Strip.Step(s3, LoadA(sharedA, warpRow + 3 * TileM + g, chunk), b0, b1, b2, b3);
            }
            Group.Barrier();
        }
        warpRow += blockRow;
        warpCol += blockCol;

        // Column g's popcount is spread over the four lanes of group g: sum them, then fetch the popcounts of this
        // lane's output columns 2t and 2t + 1 of each tile from the lanes of groups 2t and 2t + 1.
        var columns = new ColumnOnes(
            ColumnPair(GroupSum(ones0), t), ColumnPair(GroupSum(ones1), t), ColumnPair(GroupSum(ones2), t), ColumnPair(GroupSum(ones3), t));
        Store(c, m, n, kBits, warpRow + g, warpCol + 2 * t, s0, columns);
        Store(c, m, n, kBits, warpRow + TileM + g, warpCol + 2 * t, s1, columns);
        Store(c, m, n, kBits, warpRow + 2 * TileM + g, warpCol + 2 * t, s2, columns);
        Store(c, m, n, kBits, warpRow + 3 * TileM + g, warpCol + 2 * t, s3, columns);
    }

    /// <summary>The four accumulators of one m16n8k256 tile in a lane: row g, columns 2t and 2t + 1 (C0, C1), and row g + 8 (C2, C3).</summary>
    private struct MmaTile
    {
        public int C0, C1, C2, C3;
    }

    /// <summary>A lane's A fragment of a 16-row tile: a0/a2 hold row g, a1/a3 row g + 8.</summary>
    private struct FragmentA
    {
        public uint A0, A1, A2, A3;
    }

    /// <summary>A lane's B fragment of an 8-column tile (column g) and the popcount of its chunks.</summary>
    private struct FragmentB
    {
        public uint B0, B1;

        public readonly int Ones => IntrinsicMath.PopCount(B0) + IntrinsicMath.PopCount(B1);
    }

    /// <summary>
    /// One 16-row strip of a warp's block: its WarpTilesN = 4 tiles along N, and the popcounts of this lane's chunks of
    /// rows g (<see cref="TopOnes"/>) and g + 8 (<see cref="BottomOnes"/>).
    /// </summary>
    private struct Strip
    {
        public MmaTile T0, T1, T2, T3;
        public int TopOnes, BottomOnes;

        /// <summary>The strip after one 256-bit step: four mma with the strip's A fragment, and its rows' popcounts.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Strip Step(Strip s, FragmentA a, FragmentB b0, FragmentB b1, FragmentB b2, FragmentB b3)
        {
            s.T0 = Mma(s.T0, a, b0);
            s.T1 = Mma(s.T1, a, b1);
            s.T2 = Mma(s.T2, a, b2);
            s.T3 = Mma(s.T3, a, b3);
            s.TopOnes += IntrinsicMath.PopCount(a.A0) + IntrinsicMath.PopCount(a.A2);
            s.BottomOnes += IntrinsicMath.PopCount(a.A1) + IntrinsicMath.PopCount(a.A3);
            return s;
        }
    }

    /// <summary>The column popcounts of this lane's outputs: columns 2t (E) and 2t + 1 (O) of each of the four tiles.</summary>
    private readonly record struct ColumnOnes((int E, int O) T0, (int E, int O) T1, (int E, int O) T2, (int E, int O) T3);

    /// <summary>
    /// Copies words k0 .. k0 + <see cref="StageWords"/> of <paramref name="rows"/> rows from <paramref name="first"/>
    /// into shared memory as 32-bit chunks, <see cref="StageStride"/> chunks per row; zero past the matrix's rows or K.
    /// Eight consecutive threads read one row's 64 contiguous bytes, so the global loads are coalesced.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage(ArrayView<ulong> matrix, int count, int kWords, int k0, int first, int rows, ArrayView<uint> shared, int thread)
    {
        for (int e = thread; e < rows * StageWords; e += GroupThreads)
        {
            int r = e / StageWords, w = e - r * StageWords, row = first + r, word = k0 + w;
            ulong value = row < count && word < kWords ? matrix[(long)row * kWords + word] : 0UL;
            shared[r * StageStride + 2 * w] = (uint)value;
            shared[r * StageStride + 2 * w + 1] = (uint)(value >> 32);
        }
    }

    /// <summary>This lane's A fragment of the 16-row tile whose row g is block row <paramref name="row"/>, at 32-bit chunk <paramref name="chunk"/> (8·step + t) of the stage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FragmentA LoadA(ArrayView<uint> shared, int row, int chunk) => new()
    {
        A0 = shared[row * StageStride + chunk],
        A1 = shared[(row + 8) * StageStride + chunk],
        A2 = shared[row * StageStride + chunk + 4],
        A3 = shared[(row + 8) * StageStride + chunk + 4],
    };

    /// <summary>This lane's B fragment of the 8-column tile whose column g is block column <paramref name="col"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FragmentB LoadB(ArrayView<uint> shared, int col, int chunk) => new()
    {
        B0 = shared[col * StageStride + chunk],
        B1 = shared[col * StageStride + chunk + 4],
    };

    /// <summary>The sum of a value over the four lanes of this lane's group.</summary>
    private static int GroupSum(int value)
    {
        value += Warp.ShuffleXor(value, 1);
        return value + Warp.ShuffleXor(value, 2);
    }

    /// <summary>The group sums of groups 2t and 2t + 1 (the columns of this lane's accumulators).</summary>
    private static (int E, int O) ColumnPair(int groupSum, int t) => (Warp.Shuffle(groupSum, 2 * t * 4), Warp.Shuffle(groupSum, (2 * t + 1) * 4));

    /// <summary>Writes a strip's outputs of this lane: row <paramref name="row"/> and row + 8, columns col + 8j and col + 8j + 1 of tile j.</summary>
    private static void Store(ArrayView<int> c, int m, int n, int kBits, int row, int col, Strip s, ColumnOnes columns)
    {
        int top = GroupSum(s.TopOnes), bottom = GroupSum(s.BottomOnes);
        Store(c, m, n, kBits, row, col, top, bottom, columns.T0, s.T0);
        Store(c, m, n, kBits, row, col + TileN, top, bottom, columns.T1, s.T1);
        Store(c, m, n, kBits, row, col + 2 * TileN, top, bottom, columns.T2, s.T2);
        Store(c, m, n, kBits, row, col + 3 * TileN, top, bottom, columns.T3, s.T3);
    }

    private static void Store(ArrayView<int> c, int m, int n, int kBits, int row, int col, int top, int bottom, (int E, int O) columns, MmaTile tile)
    {
        Store(c, m, n, kBits, row, col, top, columns.E, tile.C0);
        Store(c, m, n, kBits, row, col + 1, top, columns.O, tile.C1);
        Store(c, m, n, kBits, row + 8, col, bottom, columns.E, tile.C2);
        Store(c, m, n, kBits, row + 8, col + 1, bottom, columns.O, tile.C3);
    }

    private static void Store(ArrayView<int> c, int m, int n, int kBits, int row, int col, int rowOnes, int colOnes, int both)
    {
        if (row < m && col < n)
            c[(long)row * n + col] = kBits - 2 * rowOnes - 2 * colOnes + 4 * both;
    }

    /// <summary>c += popcount(A AND B) for one m16n8k256 tile: the tensor-core instruction, or its emulation without PTX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaTile Mma(MmaTile c, FragmentA a, FragmentB b)
    {
        Ref<int> c0 = c.C0, c1 = c.C1, c2 = c.C2, c3 = c.C3;
        if (CudaAsm.IsSupported)
        {
            Input<uint> ia0 = a.A0, ia1 = a.A1, ia2 = a.A2, ia3 = a.A3, ib0 = b.B0, ib1 = b.B1;
            CudaAsm.EmitRef(
                "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                ref c0, ref c1, ref c2, ref c3, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1);
        }
        else
        {
            EmulateMma(ref c0.Value, ref c1.Value, ref c2.Value, ref c3.Value, a.A0, a.A1, a.A2, a.A3, b.B0, b.B1);
        }
        return new MmaTile { C0 = c0.Value, C1 = c1.Value, C2 = c2.Value, C3 = c3.Value };
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
