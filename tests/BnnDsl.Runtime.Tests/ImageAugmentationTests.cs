// The CIFAR augmentation by hand on tiny images: flips, per-channel border fills, shifts as crops of a zero-padded
// image, the draw order of ImageAugmentation (with a scripted generator), per-channel ImageSet normalization, and the
// generated data set.
using BnnDsl.Runtime.Data;

namespace BnnDsl.Runtime.Tests;

public sealed class ImageAugmentationTests
{
    /// <summary>A generator that returns a fixed script of draws and records the ranges it was asked for.</summary>
    private sealed class ScriptedRandom(params int[] draws) : Random
    {
        private readonly Queue<int> script = new(draws);

        public List<(int Min, int Max)> Requests { get; } = [];

        public int Left => script.Count;

        public override int Next(int minValue, int maxValue)
        {
            Requests.Add((minValue, maxValue));
            int value = script.Dequeue();
            Assert.InRange(value, minValue, maxValue - 1);
            return value;
        }

        public override int Next(int maxValue) => Next(0, maxValue);
    }

    /// <summary>Pixel (y, x), channel c of a test image holds 100y + 10x + c.</summary>
    private static float[] Coded(int height, int width, int channels)
    {
        var image = new float[height * width * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    image[(y * width + x) * channels + c] = 100 * y + 10 * x + c;
        return image;
    }

    [Fact]
    public void FlipMirrorsEachRowKeepingChannelsTogether()
    {
        var image = Coded(2, 3, 2);
        ImageFlip.FlipHorizontal(image, 2, 3, 2);
        Assert.Equal([20, 21, 10, 11, 0, 1, 120, 121, 110, 111, 100, 101], image);

        var even = Coded(1, 4, 1);
        ImageFlip.FlipHorizontal(even, 1, 4, 1);
        Assert.Equal([30, 20, 10, 0], even);

        var column = Coded(3, 1, 3);
        ImageFlip.FlipHorizontal(column, 3, 1, 3);
        Assert.Equal(Coded(3, 1, 3), column);

        Assert.Contains("2x2x1", Assert.Throws<ArgumentException>(() => ImageFlip.FlipHorizontal(new float[5], 2, 2, 1)).Message);
    }

    [Fact]
    public void ShiftFillsTheBorderWithOneValuePerChannel()
    {
        var image = Coded(2, 2, 2);
        ImageShift.Shift(image, 2, 2, 2, dy: 1, dx: -1, fill: [-1f, -2f]);
        // out[y, x] = in[y - 1, x + 1]: only out[1, 0] = in[0, 1] has a source
        Assert.Equal([-1, -2, -1, -2, 10, 11, -1, -2], image);

        Assert.Throws<ArgumentException>(() => ImageShift.Shift(Coded(2, 2, 3), 2, 2, 3, 1, 0, [0f, 0f]));
    }

    [Fact]
    public void EveryShiftIsACropOfTheZeroPaddedImage()
    {
        const int height = 5, width = 4, channels = 3, pad = 2;
        var random = new Random(11);
        var original = new float[height * width * channels];
        for (int i = 0; i < original.Length; i++)
            original[i] = random.NextSingle() + 1;
        float[] black = [-0.5f, -0.25f, -2f];
        int paddedWidth = width + 2 * pad;
        var padded = new float[(height + 2 * pad) * paddedWidth * channels];
        for (int y = 0; y < height + 2 * pad; y++)
            for (int x = 0; x < paddedWidth; x++)
                for (int c = 0; c < channels; c++)
                {
                    bool inside = y >= pad && y < height + pad && x >= pad && x < width + pad;
                    padded[(y * paddedWidth + x) * channels + c] = inside ? original[((y - pad) * width + x - pad) * channels + c] : black[c];
                }

        for (int top = 0; top <= 2 * pad; top++)
            for (int left = 0; left <= 2 * pad; left++)
            {
                var crop = new float[original.Length];
                for (int y = 0; y < height; y++)
                    padded.AsSpan(((y + top) * paddedWidth + left) * channels, width * channels).CopyTo(crop.AsSpan(y * width * channels));
                var shifted = original.ToArray();
                ImageShift.Shift(shifted, height, width, channels, pad - top, pad - left, black);
                Assert.Equal(crop, shifted);
            }
    }

    [Fact]
    public void AugmentationDrawsShiftThenFlipForEachImage()
    {
        var batch = Coded(2, 2, 1).Concat(Coded(2, 2, 1)).ToArray(); // two images [0, 10, 100, 110]
        var random = new ScriptedRandom(1, 0, 1, 0, -1, 0);
        new ImageAugmentation(MaxShift: 1, FlipHorizontal: true).Apply(batch, 2, 2, 1, [-9f], random);

        // image 0: down by one row ([-9, -9, 0, 10]), then mirrored; image 1: left by one column, not mirrored
        Assert.Equal([-9, -9, 10, 0, 10, -9, 110, -9], batch);
        Assert.Equal([(-1, 2), (-1, 2), (0, 2), (-1, 2), (-1, 2), (0, 2)], random.Requests);
        Assert.Equal(0, random.Left);
    }

    [Fact]
    public void ShiftOnlyAndFlipOnlyDrawOnlyWhatTheyUse()
    {
        var shiftOnly = new ScriptedRandom(2, -2);
        var image = Coded(3, 3, 1);
        new ImageAugmentation(2, false).Apply(image, 3, 3, 1, [0f], shiftOnly);
        Assert.Equal([(-2, 3), (-2, 3)], shiftOnly.Requests);
        Assert.Equal([0, 0, 0, 0, 0, 0, 20, 0, 0], image);

        var flipOnly = new ScriptedRandom(1);
        image = Coded(1, 3, 1);
        new ImageAugmentation(0, true).Apply(image, 1, 3, 1, [0f], flipOnly);
        Assert.Equal([(0, 2)], flipOnly.Requests);
        Assert.Equal([20, 10, 0], image);

        Assert.True(new ImageAugmentation(0, false).IsIdentity);
        Assert.False(new ImageAugmentation(0, true).IsIdentity);
        Assert.Throws<ArgumentException>(() => new ImageAugmentation(1, true).Apply(new float[7], 2, 2, 1, [0f], new Random(1)));
    }

    [Fact]
    public void AugmentationIsAFunctionOfTheSeedAndAllocatesNothing()
    {
        var random = new Random(12);
        var batch = new float[8 * 6 * 6 * 3];
        for (int i = 0; i < batch.Length; i++)
            batch[i] = random.NextSingle();
        var augmentation = new ImageAugmentation(4, true);
        float[] fill = [-1f, -2f, -3f];
        var first = batch.ToArray();
        var second = batch.ToArray();
        augmentation.Apply(first, 6, 6, 3, fill, new Random(5));
        augmentation.Apply(second, 6, 6, 3, fill, new Random(5));
        Assert.Equal(first, second);
        Assert.NotEqual(batch, first);

        var generator = new Random(6);
        augmentation.Apply(second, 6, 6, 3, fill, generator);
        long before = GC.GetAllocatedBytesForCurrentThread();
        augmentation.Apply(second, 6, 6, 3, fill, generator);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void ImageSetNormalizesEachChannelWithItsOwnStatistics()
    {
        var images = new ImageSet(2, 1, 2, 2, [0, 255, 51, 102, 7, 200, 1, 2], [0.5f, 0.25f], [0.25f, 0.5f]);
        var destination = new float[4];
        images.Normalize(1, 1, destination);
        Assert.Equal([(7 / 255f - 0.5f) / 0.25f, (200 / 255f - 0.25f) / 0.5f, (1 / 255f - 0.5f) / 0.25f, (2 / 255f - 0.25f) / 0.5f], destination);
        Assert.Equal([-2f, -0.5f], images.Black.ToArray());
        Assert.Equal(4, images.ValuesPerImage);
        Assert.Equal(new byte[] { 7, 200, 1, 2 }, images.Image(1).ToArray());

        Assert.Throws<ArgumentException>(() => new ImageSet(1, 1, 1, 2, [0, 0], [0.5f], [0.25f]));
        Assert.Throws<ArgumentException>(() => new ImageSet(1, 1, 1, 2, [0], [0.5f, 0.5f], [0.25f, 0.25f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageSet(1, 1, 1, 1, [0], [0.5f], [0f]));
        Assert.Throws<ArgumentException>(() => images.Normalize(0, 2, new float[7]));
    }

    [Fact]
    public void SyntheticImagesShareTheClassPatternsAcrossSeeds()
    {
        var train = SyntheticImages.Create(200, 8, 8, 3, 4, seed: 1, noise: 0);
        var test = SyntheticImages.Create(50, 8, 8, 3, 4, seed: 2, noise: 0);
        Assert.Equal((8, 8, 3), (train.Images.Rows, train.Images.Columns, train.Images.Channels));
        Assert.Equal(Enumerable.Range(0, 4), train.Labels.Labels.Select(l => (int)l).Distinct().Order());
        for (int i = 0; i < test.Count; i++)
        {
            int match = Array.IndexOf(train.Labels.Labels, test.Labels.Labels[i]);
            Assert.Equal(train.Images.Image(match).ToArray(), test.Images.Image(i).ToArray());
        }
        var again = SyntheticImages.Create(200, 8, 8, 3, 4, seed: 1, noise: 0);
        Assert.Equal(train.Images.Pixels, again.Images.Pixels);

        var noisy = SyntheticImages.Create(20, 8, 8, 3, 4, seed: 3);
        Assert.Equal(noisy.Images.Pixels, SyntheticImages.Create(20, 8, 8, 3, 4, seed: 3).Images.Pixels);
        Assert.NotEqual(noisy.Images.Pixels, SyntheticImages.Create(20, 8, 8, 3, 4, seed: 4).Images.Pixels);
    }
}
