// ImageShift against a shift written out index by index, for every offset up to past the image size, 1 and 3 channels.
using BnnDsl.Runtime.Data;

namespace BnnDsl.Runtime.Tests;

public class ImageShiftTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ShiftMovesEveryPixelAndFillsTheBorder(int channels)
    {
        const int height = 4, width = 5;
        var random = new Random(channels);
        var original = new float[height * width * channels];
        for (int i = 0; i < original.Length; i++)
            original[i] = random.NextSingle();
        for (int dy = -5; dy <= 5; dy++)
            for (int dx = -6; dx <= 6; dx++)
            {
                var image = original.ToArray();
                ImageShift.Shift(image, height, width, channels, dy, dx, fill: -9f);

                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                        for (int c = 0; c < channels; c++)
                        {
                            int sy = y - dy, sx = x - dx;
                            float expected = sy >= 0 && sy < height && sx >= 0 && sx < width ? original[(sy * width + sx) * channels + c] : -9f;
                            Assert.Equal(expected, image[(y * width + x) * channels + c]);
                        }
            }
    }

    [Fact]
    public void WrongImageLengthIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageShift.Shift(new float[10], 3, 3, 1, 1, 1, 0));
        Assert.Contains("3x3x1", error.Message);
    }
}
