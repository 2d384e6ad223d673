// The definition of sign packing: one bit at a time, used as the test oracle.
namespace BnnDsl.Kernels.Reference;

/// <summary>Naive scalar sign packing; see <see cref="Cpu.SignPacking"/> for the layout.</summary>
public static class SignPackingReference
{
    /// <summary>Bit (c % 64) of word (r * words + c / 64) is 1 exactly when x[r, c] is not &gt;= 0.</summary>
    public static ulong[] Pack(ReadOnlySpan<float> source, int rows, int channels)
    {
        int words = (channels + 63) / 64;
        var packed = new ulong[rows * words];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < channels; c++)
                if (!(source[r * channels + c] >= 0f))
                    packed[r * words + c / 64] |= 1UL << (c % 64);
        return packed;
    }

    /// <summary>The ±1 value that bit <paramref name="c"/> of a packed row encodes.</summary>
    public static int SignAt(ReadOnlySpan<ulong> row, int c) => ((row[c >> 6] >> (c & 63)) & 1) == 0 ? 1 : -1;
}
