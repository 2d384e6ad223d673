// Seeded random kernel operands shared by the CPU tests, the GPU tests and the device check program.
namespace BnnDsl.Kernels.Reference;

/// <summary>Random float and packed-bit operands drawn from a caller's seeded <see cref="Random"/>.</summary>
public static class RandomOperands
{
    /// <summary>Values in [-1, 1), about <paramref name="zeroShare"/> of them exactly zero (the sign edge case).</summary>
    public static float[] Floats(Random random, int count, float zeroShare = 0.05f)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = random.NextSingle() < zeroShare ? 0f : random.NextSingle() * 2f - 1f;
        return x;
    }

    /// <summary>Values in [-<paramref name="limit"/>, <paramref name="limit"/>), one draw each, no zeros forced.</summary>
    public static float[] UniformFloats(Random random, long count, float limit = 1f)
    {
        var x = new float[count];
        for (long i = 0; i < count; i++)
            x[i] = random.NextSingle() * (2f * limit) - limit;
        return x;
    }

    /// <summary>Activation or weight codes drawn uniformly from [0, 2^<paramref name="bits"/>), one byte each.</summary>
    public static byte[] Codes(Random random, int count, int bits)
    {
        var codes = new byte[count];
        for (int i = 0; i < count; i++)
            codes[i] = (byte)random.Next(1 << bits);
        return codes;
    }

    /// <summary>Random packed rows of <paramref name="bits"/> real bits each, tail bits zero.</summary>
    public static ulong[] PackedRows(Random random, int rows, int bits)
    {
        int words = (bits + 63) / 64;
        var data = new ulong[rows * words];
        for (int r = 0; r < rows; r++)
            for (int w = 0; w < words; w++)
            {
                ulong word = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
                int valid = Math.Min(64, bits - w * 64);
                data[r * words + w] = valid == 64 ? word : word & ((1UL << valid) - 1);
            }
        return data;
    }
}
