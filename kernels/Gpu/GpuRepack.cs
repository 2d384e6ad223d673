// Repacking on the accelerator: signs packed per position (NHWC words) -> one flat packed vector per sample (Flatten).
using BnnDsl.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// Turns <c>count × positions</c> packed rows of <c>channels</c> signs (<c>ceil(channels / 64)</c> words each) into
/// <c>count</c> flat packed vectors of <c>positions · channels</c> signs (<c>ceil(positions · channels / 64)</c> words,
/// sign <c>p · channels + c</c> at bit index p · channels + c, tail bits zero): the packed form of Flatten when channels is
/// not a multiple of 64. Exact. Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuRepack
{
    /// <summary>Launches the repacking of <paramref name="input"/> into <paramref name="output"/>.</summary>
    public static void Repack(GpuDevice device, ArrayView<ulong> input, int count, int positions, int channels, ArrayView<ulong> output)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(count, nameof(count));
        GpuChecks.Positive(positions, nameof(positions));
        GpuChecks.Positive(channels, nameof(channels));
        int words = SignPacking.WordsFor(channels), flatWords = SignPacking.WordsFor(positions * channels);
        GpuChecks.Length(input, (long)count * positions * words, nameof(input), "count * positions * ceil(channels / 64)");
        GpuChecks.Length(output, (long)count * flatWords, nameof(output), "count * ceil(positions * channels / 64)");
        GpuChecks.FitsInt((long)count * flatWords * 64, "count * ceil(positions * channels / 64) * 64");
        var kernel = device.Kernel("repack", typeof(ulong), accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<ulong>, ArrayView<ulong>, RepackShape>(RepackKernel));
        kernel(count * flatWords, input, output, new RepackShape(positions, channels, words, flatWords));
    }

    /// <summary>One thread per output word: gathers its (up to) 64 signs from the positions' words.</summary>
    private static void RepackKernel(Index1D index, ArrayView<ulong> input, ArrayView<ulong> output, RepackShape shape)
    {
        int sample = index / shape.FlatWords, word = index - sample * shape.FlatWords;
        int length = shape.Positions * shape.Channels, first = word * 64;
        int end = IntrinsicMath.Min(64, length - first);
        int position = first / shape.Channels, channel = first - position * shape.Channels;
        int rowBase = (sample * shape.Positions + position) * shape.Words;
        ulong bits = 0;
        for (int b = 0; b < end; b++)
        {
            bits |= ((input[rowBase + (channel >> 6)] >> (channel & 63)) & 1UL) << b;
            if (++channel == shape.Channels)
            {
                channel = 0;
                rowBase += shape.Words;
            }
        }
        output[index] = bits;
    }

    /// <summary>The scalar arguments of one launch.</summary>
    internal readonly record struct RepackShape(int Positions, int Channels, int Words, int FlatWords);
}
