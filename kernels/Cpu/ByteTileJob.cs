// The work item of ByteGemm and ByteConv2d: one block of rows times one 16-column weight panel, run tile by tile
// through the byte micro-kernels; the two differ only in where a row's codes start (IByteRowStarts).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>Where the codes of each row of a byte tile job start: a row of A, or an output position's first tap.</summary>
internal unsafe interface IByteRowStarts
{
    /// <summary>Writes the first code of rows <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 to <paramref name="rows"/>.</summary>
    void Fill(int first, int count, byte** rows);
}

/// <summary>
/// Item <c>index</c>: panel <c>index % Panels</c> of B times block <c>index / Panels</c> of <see cref="RowsPerBlock"/>
/// rows, in tiles of <see cref="ByteGemmTile.Rows"/> rows: the micro-kernel (<see cref="IByteTileKernel"/>: each row
/// as <see cref="Segments"/> segments of <see cref="SegmentGroups"/> groups of 4 codes), then <see cref="ByteTail"/> for
/// <see cref="TailCodes"/> codes after the last segment, then <see cref="PanelOutput.Write"/> per row.
/// </summary>
internal unsafe struct ByteTileJob<TRows> : IParallelJob where TRows : struct, IByteRowStarts
{
    public TRows Rows;
    public int M, Segments, SegmentGroups, TailCodes, Chunk;
    public nint SegmentStride;
    public sbyte* B;
    public int PanelBytes, Panels, RowsPerBlock;
    public KernelPath Path;
    public PanelOutput Output;

    public void Run(int index)
    {
        // The AVX-512 path runs the 256-bit tile: a 512-bit one is not written yet (this machine could only emulate it).
        if (Path == KernelPath.Scalar)
            RunItem<ScalarByteKernel>(index);
        else if (AvxVnni.IsSupported)
            RunItem<VectorByteKernel<AvxVnniMultiplyAdd>>(index);
        else
            RunItem<VectorByteKernel<Avx2MultiplyAdd>>(index);
    }

    // SkipLocalsInit: the stackalloc'd tile and row starts are written before they are read.
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private void RunItem<TKernel>(int index) where TKernel : struct, IByteTileKernel
    {
        const int T = ByteGemmTile.Rows, S = ByteGemmTile.Columns, G = BytePackedB.GroupSize;
        int panel = index % Panels;
        int rowBlock = index / Panels;
        int rowStart = rowBlock * RowsPerBlock, rowEnd = Math.Min(M, rowStart + RowsPerBlock);
        sbyte* panelData = B + (long)panel * PanelBytes;
        int* tile = stackalloc int[T * S];
        // The start of every row of the block, and the last one repeated to fill the last tile.
        int blockRows = rowEnd - rowStart;
        byte** rows = stackalloc byte*[blockRows + T];
        Rows.Fill(rowStart, blockRows, rows);
        for (int r = blockRows; r < blockRows + T; r++)
            rows[r] = rows[blockRows - 1];
        nint tailOffset = (Segments - 1) * SegmentStride + (nint)SegmentGroups * G;
        sbyte* tailGroup = panelData + (nint)Segments * SegmentGroups * (G * S);
        for (int row = rowStart; row < rowEnd; row += T)
        {
            int count = Math.Min(T, rowEnd - row);
            byte** tileRows = rows + (row - rowStart);
            TKernel.Tile(tileRows, count, SegmentStride, Segments, SegmentGroups, panelData, Chunk, tile);
            if (TailCodes != 0)
                ByteTail.Add(tileRows, count, tailOffset, tailGroup, TailCodes, tile);
            for (int r = 0; r < count; r++)
                Output.Write(row + r, panel, tile + r * S);
        }
    }
}
