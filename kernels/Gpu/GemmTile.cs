// Compile-time tile shapes of the tiled GEMM kernels (XNOR and float): struct type parameters, one kernel per shape.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// A tile shape, read in kernels through <c>default(TTile)</c> so every size is a compile-time constant. A group of
/// <see cref="ThreadRows"/> × <see cref="ThreadCols"/> threads computes a (ThreadRows·RowsPerThread) ×
/// (ThreadCols·ColsPerThread) block of C; thread (y, x) owns rows y + i·ThreadRows and columns x + j·ThreadCols, so
/// stores are coalesced and shared-memory reads broadcast. K advances <see cref="Depth"/> elements (words for XNOR,
/// floats for SGEMM) per shared-memory step.
/// </summary>
public interface IGemmTile
{
    /// <summary>Threads of a group along M.</summary>
    int ThreadRows { get; }

    /// <summary>Threads of a group along N.</summary>
    int ThreadCols { get; }

    /// <summary>Outputs per thread along M.</summary>
    int RowsPerThread { get; }

    /// <summary>Outputs per thread along N.</summary>
    int ColsPerThread { get; }

    /// <summary>K elements staged in shared memory per step.</summary>
    int Depth { get; }
}

/// <summary>64 × 64 outputs per group of 16 × 16 threads, 4 × 4 per thread, 8 K elements per step.</summary>
public readonly struct Tile64x64 : IGemmTile
{
    public int ThreadRows => 16;
    public int ThreadCols => 16;
    public int RowsPerThread => 4;
    public int ColsPerThread => 4;
    public int Depth => 8;
}

/// <summary>128 × 64 outputs per group of 16 × 16 threads, 8 × 4 per thread, 8 K elements per step (large M).</summary>
public readonly struct Tile128x64 : IGemmTile
{
    public int ThreadRows => 16;
    public int ThreadCols => 16;
    public int RowsPerThread => 8;
    public int ColsPerThread => 4;
    public int Depth => 8;
}

/// <summary>32 × 32 outputs per group of 8 × 8 threads, 4 × 4 per thread, 4 K elements per step (small layers).</summary>
public readonly struct Tile32x32 : IGemmTile
{
    public int ThreadRows => 8;
    public int ThreadCols => 8;
    public int RowsPerThread => 4;
    public int ColsPerThread => 4;
    public int Depth => 4;
}

/// <summary>Sizes derived from a tile shape, for the host side (launch grids) and the kernels.</summary>
internal static class GemmTileShape
{
    public static int Rows<TTile>() where TTile : struct, IGemmTile => default(TTile).ThreadRows * default(TTile).RowsPerThread;

    public static int Cols<TTile>() where TTile : struct, IGemmTile => default(TTile).ThreadCols * default(TTile).ColsPerThread;

    /// <summary>Groups along N (x) and M (y) covering an m × n output.</summary>
    public static (int X, int Y) Groups<TTile>(int m, int n) where TTile : struct, IGemmTile
        => ((n + Cols<TTile>() - 1) / Cols<TTile>(), (m + Rows<TTile>() - 1) / Rows<TTile>());

    /// <summary>The launch of a tiled kernel over an m × n output: <see cref="Groups{TTile}"/> groups of ThreadCols × ThreadRows threads.</summary>
    public static KernelConfig Config<TTile>(int m, int n) where TTile : struct, IGemmTile
    {
        var (groupsX, groupsY) = Groups<TTile>(m, n);
        return new KernelConfig(new Index2D(groupsX, groupsY), new Index2D(default(TTile).ThreadCols, default(TTile).ThreadRows));
    }
}
