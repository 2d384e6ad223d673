// The residual add: sums element-wise over lengths that cross vector and chunk boundaries, passes and accumulates
// gradients, and rejects spans of the wrong length naming the argument.
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Runtime.Tests.Layers;

public class ResidualAddTests
{
    private static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(3, 7, 1)]
    [InlineData(2, 17, 4)]
    [InlineData(3, 40_001, 0)]
    public void ForwardAddsAndAccumulateSums(int batch, int length, int threads)
    {
        var add = new ResidualAdd("add1", batch, length, threads: threads);
        var main = Random(batch * length, 1);
        var shortcut = Random(batch * length, 2);
        var y = new float[batch * length];

        add.Forward(main, shortcut, y);
        Assert.Equal(main.Zip(shortcut, (a, b) => a + b), y);

        var gradient = Random(batch * length, 3);
        var sum = (float[])gradient.Clone();
        add.Accumulate(sum, main);
        Assert.Equal(gradient.Zip(main, (a, b) => a + b), sum);

        var passed = new float[batch * length];
        add.Pass(gradient, passed);
        Assert.Equal(gradient, passed);
    }

    [Fact]
    public void AccumulateTakesTheBlockInputsLength()
    {
        var add = new ResidualAdd("add1", 2, 8);
        var sum = new float[50];
        add.Accumulate(sum, Enumerable.Repeat(1f, 50).ToArray());
        Assert.All(sum, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void WrongLengthsAreRejectedByName()
    {
        var add = new ResidualAdd("add1", 2, 8);
        var ok = new float[16];
        Assert.Equal("shortcut", Assert.Throws<ArgumentException>(() => add.Forward(ok, new float[15], ok)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => add.Forward(ok, ok, new float[17])).ParamName);
        Assert.Equal("pathGradient", Assert.Throws<ArgumentException>(() => add.Pass(ok, new float[3])).ParamName);
        Assert.Equal("addend", Assert.Throws<ArgumentException>(() => add.Accumulate(ok, new float[3])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualAdd("add1", 0, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualAdd("add1", 2, 0));
    }
}
