// Sign unpacking on the accelerator: packed rows (64 signs per ulong) -> ±1 floats, the inverse of GpuSignPacking.
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Writes <c>rows × channels</c> floats from <c>rows × ceil(channels / 64)</c> packed words: +1 where bit (c % 64) of
/// word c / 64 is 0, −1 where it is 1 (the layout of <see cref="SignPacking"/>); tail bits are not read. Exact.
/// Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuSignUnpacking
{
    /// <summary>Launches the unpacking of <paramref name="packed"/> into <paramref name="values"/>.</summary>
    public static void Unpack(GpuDevice device, ArrayView<ulong> packed, int rows, int channels, ArrayView<float> values)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(channels, nameof(channels));
        int words = SignPacking.WordsFor(channels);
        GpuChecks.Length(packed, (long)rows * words, nameof(packed), "rows * ceil(channels / 64)");
        GpuChecks.Length(values, (long)rows * channels, nameof(values), "rows * channels");
        GpuChecks.FitsInt((long)rows * channels, "rows * channels");
        var kernel = device.Kernel("sign-unpack", typeof(float), accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ulong>, ArrayView<float>, int, int>(UnpackKernel));
        kernel(rows * channels, packed, values, channels, words);
    }

    /// <summary>One thread per float: its bit.</summary>
    private static void UnpackKernel(Index1D index, ArrayView<ulong> packed, ArrayView<float> values, int channels, int words)
    {
        int row = index / channels, c = index - row * channels;
        values[index] = ((packed[row * words + (c >> 6)] >> (c & 63)) & 1UL) == 0UL ? 1f : -1f;
    }
}
