// Sign packing on the accelerator: float rows -> 64 signs per ulong, the layout of Cpu.SignPacking.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Packs <c>rows × channels</c> floats into <c>rows × ceil(channels / 64)</c> words: bit (c % 64) of word c / 64 is 1
/// (−1) exactly when x is not &gt;= 0 (so 0 packs as +1 and NaN as −1), tail bits zero. Same result as
/// <see cref="SignPacking.Pack"/>, bit for bit.
/// </summary>
public static class GpuSignPacking
{
    /// <summary>Launches the packing of <paramref name="source"/> into <paramref name="packed"/> (asynchronous).</summary>
    public static void Pack(GpuDevice device, ArrayView<float> source, int rows, int channels, ArrayView<ulong> packed)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(channels, nameof(channels));
        int words = SignPacking.WordsFor(channels);
        GpuChecks.Length(source, (long)rows * channels, nameof(source), "rows * channels");
        GpuChecks.Length(packed, (long)rows * words, nameof(packed), "rows * ceil(channels / 64)");
        GpuChecks.FitsInt((long)rows * channels, "rows * channels");
        var kernel = device.Kernel("sign-pack", typeof(float), accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<ulong>, int, int>(PackKernel));
        kernel(rows * words, source, packed, channels, words);
    }

    /// <summary>One thread per output word: reads its (up to) 64 channels and sets a bit for each negative one.</summary>
    private static void PackKernel(Index1D index, ArrayView<float> source, ArrayView<ulong> packed, int channels, int words)
    {
        int row = index / words;
        int first = (index - row * words) * 64;
        int count = IntrinsicMath.Min(64, channels - first);
        int offset = row * channels + first;
        ulong bits = 0;
        for (int c = 0; c < count; c++)
            if (!(source[offset + c] >= 0f))
                bits |= 1UL << c;
        packed[index] = bits;
    }
}
