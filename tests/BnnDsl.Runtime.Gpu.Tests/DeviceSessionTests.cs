// The device session against the CPU interpreter on whole converted models: every step's bits (where its input bits
// agree), every step's floats, the logits and the classes, with kept and reused buffers; argument errors; chunked calls; the factory.
using BnnDsl.Deployment;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using Xunit.Abstractions;

namespace BnnDsl.Runtime.Gpu.Tests;

public sealed class DeviceSessionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => new() { nameof(TestModels.LeNet), nameof(TestModels.Residual), nameof(TestModels.TwoBit) };

    private static PackedModel Model(string name) => name switch
    {
        nameof(TestModels.LeNet) => TestModels.LeNet,
        nameof(TestModels.Residual) => TestModels.Residual,
        _ => TestModels.TwoBit,
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryStepMatchesTheCpuInterpreter(string name)
    {
        var model = Model(name);
        output.WriteLine(ModelPlanner.Text(model.Steps));
        const int count = 3;
        var input = TestModels.RandomInput(count, model.InputLength, 11);
        var cpu = model.CreateSession(count, keepStepOutputs: true);
        using var device = new DeviceSession(model, TestModels.Device, count, keepStepOutputs: true);
        var expected = new float[count * model.OutputLength];
        var actual = new float[expected.Length];
        cpu.Predict(input, count, expected);
        device.Predict(input, count, actual);

        var bitsEqual = new bool[model.Steps.Count];
        for (int i = 0; i < model.Steps.Count; i++)
        {
            var step = model.Steps[i];
            if (step.HasBits)
            {
                var want = cpu.StepBits(i).ToArray();
                var got = device.StepBits(i).ToArray();
                bitsEqual[i] = want.AsSpan().SequenceEqual(got);
                bool inputEqual = step.InputBits && (step.Source < 0 || bitsEqual[step.Source]);
                if (inputEqual)
                    Assert.True(bitsEqual[i], $"step {i + 1} ({step}): its input bits agree but its output bits differ");
                else
                    Assert.True(DifferingBits(want, got) * 1000L <= (long)want.Length * 64, $"step {i + 1} ({step}): more than 1 in 1000 bits differ");
            }
            if (step.OutputFloats)
                AssertClose(cpu.StepFloats(i), device.StepFloats(i), 1e-4f, $"step {i + 1} ({step})");
        }
        AssertLogits(expected, actual);
        Assert.Equal(cpu.Classify(input, count), device.Classify(input, count));

        // a session that reuses its step buffers computes the same
        using var reusing = new DeviceSession(model, TestModels.Device, count);
        var reused = new float[actual.Length];
        reusing.Predict(input, count, reused);
        Assert.Equal(actual, reused);
    }

    [Fact]
    public void AChunkedCallEqualsSeparateCalls()
    {
        var model = TestModels.LeNet;
        const int count = 5;
        var input = TestModels.RandomInput(count, model.InputLength, 21);
        using var session = new DeviceSession(model, TestModels.Device, 2);
        var chunked = new float[count * model.OutputLength];
        session.Predict(input, count, chunked);
        var separate = new float[chunked.Length];
        for (int s = 0; s < count; s++)
            session.Predict(input.AsSpan(s * model.InputLength, model.InputLength), 1, separate.AsSpan(s * model.OutputLength, model.OutputLength));
        // Bit for bit on the CPU accelerator; on CUDA cuBLAS picks its summation order per batch size.
        DeviceTestData.SameFloats(separate, chunked, "chunked against separate calls");
        var classes = new int[count];
        session.Classify(input, count, classes);
        for (int s = 0; s < count; s++)
            Assert.Equal(PredictorArgMax(chunked.AsSpan(s * model.OutputLength, model.OutputLength)), classes[s]);
    }

    [Fact]
    public void ArgumentErrorsReadAsTheCpuRunners()
    {
        var model = TestModels.LeNet;
        var cpu = model.CreateSession(2);
        using var device = new DeviceSession(model, TestModels.Device, 2);
        var input = new float[model.InputLength * 2 - 1];
        var logits = new float[model.OutputLength * 2];
        var expected = Assert.Throws<ArgumentException>(() => cpu.Predict(input, 2, logits));
        var actual = Assert.Throws<ArgumentException>(() => device.Predict(input, 2, logits));
        Assert.Equal(expected.Message, actual.Message);
        Assert.Equal(expected.Message, Assert.Throws<ArgumentException>(() => device.Classify(input, 2)).Message);

        var whole = new float[model.InputLength * 2];
        var small = new float[model.OutputLength];
        Assert.Equal(Assert.Throws<ArgumentException>(() => cpu.Predict(whole, 2, small)).Message,
            Assert.Throws<ArgumentException>(() => device.Predict(whole, 2, small)).Message);
        Assert.Equal(Assert.Throws<ArgumentException>(() => cpu.Classify(whole, 2, new int[1])).Message,
            Assert.Throws<ArgumentException>(() => device.Classify(whole, 2, new int[1])).Message);
        Assert.Equal(Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateSession(0)).Message,
            Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSession(model, TestModels.Device, 0)).Message);
        Assert.Throws<InvalidOperationException>(() => device.StepBits(0).Length);
    }

    [Fact]
    public void PredictorsOpenTheInterpreterOnTheCpuAndASessionOnADevice()
    {
        using var host = ComputeDevice.Open(ComputeDeviceKind.Cpu);
        var cpu = Predictors.Open(TestModels.LeNet, host, 4, threads: 1);
        Assert.IsType<InferenceSession>(cpu);
        Assert.Equal(4, cpu.BatchSize);
        var device = Predictors.Open(TestModels.LeNet, TestModels.Device, 4, keepStepOutputs: true);
        using var session = Assert.IsType<DeviceSession>(device);
        Assert.Same(TestModels.LeNet, device.Model);
        Assert.Same(TestModels.Device, session.Device);
        Assert.Throws<ArgumentException>(() => new DeviceSession(TestModels.LeNet, host, 4));
    }

    private static int PredictorArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best])
                best = j;
        return best;
    }

    private static long DifferingBits(ulong[] a, ulong[] b)
    {
        long differing = 0;
        for (int i = 0; i < a.Length; i++)
            differing += System.Numerics.BitOperations.PopCount(a[i] ^ b[i]);
        return differing;
    }

    /// <summary>Every logit within 1e-4 of the largest |logit| of the batch.</summary>
    private static void AssertLogits(float[] expected, float[] actual)
    {
        float largest = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * Math.Max(1f, largest), $"logit {i}: {actual[i]} vs {expected[i]}");
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(actual[i] - expected[i]) <= relative * Math.Max(1f, MathF.Abs(expected[i]))))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
