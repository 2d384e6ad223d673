// The generated Device classes (one DeviceOps call per step, literal shapes) against the device interpreter, bit for
// bit, and against the generated CPU Packed class; a model of another network is refused.
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Runtime.Gpu.Tests;

public sealed class GeneratedDeviceTests
{
    [Fact]
    public void LeNetEqualsTheDeviceInterpreterBitForBit()
    {
        using var generated = new TinyLeNet.Device(TestModels.LeNet, TestModels.Device, 3);
        AssertSame(TestModels.LeNet, generated, new TinyLeNet.Packed(TestModels.LeNet, 3), 5);
    }

    [Fact]
    public void ResidualNetworkEqualsTheDeviceInterpreterBitForBit()
    {
        using var generated = new TinyResNet.Device(TestModels.Residual, TestModels.Device, 3);
        AssertSame(TestModels.Residual, generated, new TinyResNet.Packed(TestModels.Residual, 3), 6);
    }

    [Fact]
    public void TwoBitNetworkEqualsTheDeviceInterpreterBitForBit()
    {
        using var generated = new TinyTwoBit.Device(TestModels.TwoBit, TestModels.Device, 3);
        AssertSame(TestModels.TwoBit, generated, new TinyTwoBit.Packed(TestModels.TwoBit, 3), 7);
    }

    [Fact]
    public void AModelOfAnotherNetworkIsRefusedNamingBoth()
    {
        var error = Assert.Throws<ModelFileException>(() => new TinyLeNet.Device(TestModels.Residual, TestModels.Device, 2));
        Assert.Contains("'TinyResNet'", error.Message);
        Assert.Contains("'TinyLeNet'", error.Message);
    }

    [Fact]
    public void TheHostCpuIsRefusedPointingToThePackedClass()
    {
        using var host = ComputeDevice.Open(ComputeDeviceKind.Cpu);
        var error = Assert.Throws<ArgumentException>(() => new TinyLeNet.Device(TestModels.LeNet, host, 2));
        Assert.Equal("device", error.ParamName);
    }

    /// <summary>
    /// Five samples through a batch of 3 (a full and a partial chunk): the generated class's logits equal the device
    /// interpreter's exactly, and the CPU Packed class's within float rounding, with the same classes.
    /// </summary>
    private static void AssertSame(PackedModel model, DevicePackedNetwork generated, PackedNetwork cpu, int seed)
    {
        const int count = 5;
        var input = TestModels.RandomInput(count, model.InputLength, seed);
        using var interpreter = new DeviceSession(model, TestModels.Device, 3);
        var expected = new float[count * model.OutputLength];
        var actual = new float[expected.Length];
        var host = new float[expected.Length];
        interpreter.Predict(input, count, expected);
        generated.Predict(input, count, actual);
        cpu.Predict(input, count, host);
        Assert.Equal(expected, actual);
        float scale = host.Max(Math.Abs);
        for (int i = 0; i < host.Length; i++)
            Assert.True(Math.Abs(host[i] - actual[i]) <= 1e-4f * Math.Max(1f, scale), $"logit {i}: cpu {host[i]}, device {actual[i]}");
        Assert.Equal(cpu.Classify(input, count), generated.Classify(input, count));
    }
}
