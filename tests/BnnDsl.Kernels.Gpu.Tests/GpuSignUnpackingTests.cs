// GPU sign unpacking against the bit-by-bit reference, on every accelerator: channel tails, and tail bits never read.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuSignUnpackingTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesReferenceForChannelsAroundWordBoundaries(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(41);
        foreach (int channels in new[] { 1, 7, 63, 64, 65, 129, 200 })
        {
            int rows = 1 + random.Next(4), words = SignPacking.WordsFor(channels);
            var packed = RandomOperands.PackedRows(random, rows, channels);
            var expected = new float[rows * channels];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < channels; c++)
                    expected[r * channels + c] = SignPackingReference.SignAt(packed.AsSpan(r * words, words), c);
            if (channels % 64 != 0)
                packed[words - 1] |= ~0UL << (channels % 64); // set tail bits: they must not be read
            using var input = device.Accelerator.Allocate1D(packed);
            using var output = device.Allocate<float>(expected.Length);
            GpuSignUnpacking.Unpack(device, input.View, rows, channels, output.View);
            Assert.Equal(expected, output.GetAsArray1D());
        }
    }
}
