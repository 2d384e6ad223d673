// Learning-rate schedules at hand-computed points, and the parser for the --schedule text.
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Tests;

public class LearningRateScheduleTests
{
    [Fact]
    public void ConstantIsTheSameEverywhere()
    {
        var schedule = new ConstantSchedule(0.1f);

        Assert.Equal(0.1f, schedule.At(0, 10));
        Assert.Equal(0.1f, schedule.At(9, 10));
        Assert.Equal(0.1f, schedule.At(50, 10));
    }

    [Fact]
    public void CosineWithoutWarmup()
    {
        var schedule = new CosineSchedule(1f);

        // (1 + cos(pi * s / 4)) / 2 for s = 0..4: 1, (1 + sqrt(2)/2)/2, 1/2, (1 - sqrt(2)/2)/2, 0.
        Assert.Equal(1f, schedule.At(0, 4));
        Assert.Equal(0.85355339f, schedule.At(1, 4), 1e-6f);
        Assert.Equal(0.5f, schedule.At(2, 4), 1e-6f);
        Assert.Equal(0.14644661f, schedule.At(3, 4), 1e-6f);
        Assert.Equal(0f, schedule.At(4, 4), 1e-6f);
    }

    [Fact]
    public void CosineWithWarmupAndFloor()
    {
        var schedule = new CosineSchedule(0.1f, minLr: 0.01f, warmupSteps: 10);

        // Warmup: 0.1 * (s + 1) / 10.
        Assert.Equal(0.01f, schedule.At(0, 110), 1e-7f);
        Assert.Equal(0.05f, schedule.At(4, 110), 1e-7f);
        Assert.Equal(0.1f, schedule.At(9, 110), 1e-7f);
        // Cosine over the 100 steps after warmup: 0.01 + 0.09 * (1 + cos(pi * (s - 10) / 100)) / 2.
        Assert.Equal(0.1f, schedule.At(10, 110), 1e-7f);
        Assert.Equal(0.055f, schedule.At(60, 110), 1e-7f);
        Assert.Equal(0.01f + 0.09f * (1 + MathF.Cos(MathF.PI * 0.25f)) / 2, schedule.At(35, 110), 1e-7f);
        Assert.Equal(0.01f, schedule.At(110, 110), 1e-7f);
        Assert.Equal(0.01f, schedule.At(500, 110), 1e-7f);
    }

    [Fact]
    public void StepDecaysByGammaEveryStepSize()
    {
        var schedule = new StepSchedule(0.1f, 30);

        Assert.Equal(0.1f, schedule.At(0, 100));
        Assert.Equal(0.1f, schedule.At(29, 100));
        Assert.Equal(0.01f, schedule.At(30, 100), 1e-9f);
        Assert.Equal(0.001f, schedule.At(65, 100), 1e-10f);
        Assert.Equal(0.25f, new StepSchedule(1f, 10, 0.5f).At(25, 100));
    }

    [Fact]
    public void ParseReadsEveryForm()
    {
        Assert.Equal(0.2f, Assert.IsType<ConstantSchedule>(LearningRateSchedule.Parse("constant", 0.2f)).Rate);
        var cosine = Assert.IsType<CosineSchedule>(LearningRateSchedule.Parse(" Cosine ", 0.2f));
        Assert.Equal((0.2f, 0f, 0L), (cosine.Rate, cosine.MinRate, cosine.WarmupSteps));
        var step = Assert.IsType<StepSchedule>(LearningRateSchedule.Parse("step:100", 0.2f));
        Assert.Equal((0.2f, 100L, 0.1f), (step.Rate, step.StepSize, step.Gamma));
        step = Assert.IsType<StepSchedule>(LearningRateSchedule.Parse("step:7:0.5", 0.2f));
        Assert.Equal((0.2f, 7L, 0.5f), (step.Rate, step.StepSize, step.Gamma));
    }

    [Theory]
    [InlineData("")]
    [InlineData("linear")]
    [InlineData("cosine:5")]
    [InlineData("step")]
    [InlineData("step:0")]
    [InlineData("step:-3")]
    [InlineData("step:ten")]
    [InlineData("step:10:0")]
    [InlineData("step:10:x")]
    [InlineData("step:10:0.5:2")]
    public void ParseRejectsOtherText(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse(text, 0.1f));

        Assert.Equal("text", error.ParamName);
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains("step:STEPS[:GAMMA]", error.Message);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, minLr: 0.2f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, warmupSteps: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 10, float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule(0.1f).At(-1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f).At(0, 0));
    }
}
