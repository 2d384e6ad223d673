// GPU repacking (per-position packed signs -> one flat packed vector per sample) against a bit-by-bit reference.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuRepackTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesReferenceWithTailsOnBothSides(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(42);
        foreach (var (count, positions, channels) in new[] { (1, 1, 1), (2, 4, 16), (3, 25, 13), (2, 9, 70), (1, 3, 64) })
        {
            int words = SignPacking.WordsFor(channels), flatWords = SignPacking.WordsFor(positions * channels);
            var packed = RandomOperands.PackedRows(random, count * positions, channels);
            var expected = new ulong[count * flatWords];
            for (int s = 0; s < count; s++)
                for (int p = 0; p < positions; p++)
                    for (int c = 0; c < channels; c++)
                        if (SignPackingReference.SignAt(packed.AsSpan((s * positions + p) * words, words), c) < 0)
                        {
                            int index = p * channels + c;
                            expected[s * flatWords + index / 64] |= 1UL << (index % 64);
                        }
            using var input = device.Accelerator.Allocate1D(packed);
            using var output = device.Allocate<ulong>(expected.Length);
            output.View.MemSet(0xFF);
            GpuRepack.Repack(device, input.View, count, positions, channels, output.View);
            Assert.Equal(expected, output.GetAsArray1D());
        }
    }
}
