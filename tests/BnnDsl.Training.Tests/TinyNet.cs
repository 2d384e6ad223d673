// A small network with every layer kind LeNet uses (float and binary conv, BatchNorm, pooling, sign, binary and
// float dense, loss head), and a synthetic data set it can learn, so training tests run in seconds.
using BnnDsl.Runtime.Data;

namespace BnnDsl.Training.Tests;

/// <summary>LeNet in miniature: 1x8x8 input, 3 classes.</summary>
[Network(1, 8, 8)]
[Convolution(8, 3)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[QConvolution(16, 3, Pad = 1)]
[BatchNorm]
[QActivation(1)]
[Flatten]
[QFullyConnected(32)]
[BatchNorm]
[QActivation(1)]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class TinyNet;

/// <summary>Images whose class is where a bright 3x3 square sits (left, middle or right), on noise.</summary>
internal static class SyntheticDigits
{
    public static LabeledImages Create(int count, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * 64];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = rng.Next(3);
            labels[i] = (byte)label;
            var image = pixels.AsSpan(i * 64, 64);
            for (int p = 0; p < 64; p++)
                image[p] = (byte)rng.Next(0, 90);
            int top = rng.Next(0, 6), left = label * 2 + rng.Next(0, 2);
            for (int y = top; y < top + 3; y++)
                for (int x = left; x < left + 3; x++)
                    image[y * 8 + x] = (byte)rng.Next(180, 256);
        }
        return new LabeledImages(new IdxImages(count, 8, 8, pixels), new IdxLabels(labels, 3));
    }
}
