// Times LeNet packed inference on the device (DeviceSession) against the CPU interpreter, validated first.
using System.Diagnostics;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.GpuCheck;

/// <summary>Images per second of a packed LeNet on the device and on the CPU interpreter (all cores), at one batch size.</summary>
internal sealed record PackedInferenceTiming(int Batch, double DeviceImagesPerSecond, double CpuImagesPerSecond);

internal static class PackedInferenceBenchmark
{
    /// <summary>
    /// Converts a randomly initialized LeNet (examples/LeNet's layers), runs a batch on the device and on the CPU
    /// interpreter and checks the logits agree within 1e-4 of the largest (else <see cref="InvalidDataException"/>),
    /// (that first call of each is the warm-up: kernels compiled, buffers touched), then times <paramref name="repeats"/>
    /// calls of each at <paramref name="batch"/> images.
    /// </summary>
    public static PackedInferenceTiming Measure(GpuDeviceKind kind, int batch, int repeats, TextWriter output)
    {
        var model = LeNet();
        var random = new Random(3);
        var input = new float[batch * model.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = random.NextSingle() * 3.2f - 0.42f;
        using var device = ComputeDevice.Open(kind == GpuDeviceKind.Cuda ? ComputeDeviceKind.Cuda : ComputeDeviceKind.IlgpuCpu);
        using var session = new DeviceSession(model, device, batch);
        var cpu = model.CreateSession(batch);
        var expected = new float[batch * model.OutputLength];
        var actual = new float[expected.Length];
        cpu.Predict(input, batch, expected);
        session.Predict(input, batch, actual);
        float largest = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * Math.Max(1f, largest)))
                throw new InvalidDataException($"LeNet packed inference: logit {i} is {actual[i]} on the device but {expected[i]} on the CPU interpreter.");
        double deviceSeconds = Seconds(() => session.Predict(input, batch, actual), repeats);
        double cpuSeconds = Seconds(() => cpu.Predict(input, batch, expected), repeats);
        output.WriteLine($"  LeNet packed inference b{batch}: device {deviceSeconds * 1e3:F3} ms, CPU interpreter {cpuSeconds * 1e3:F3} ms per batch");
        return new PackedInferenceTiming(batch, batch / deviceSeconds, batch / cpuSeconds);
    }

    private static double Seconds(Action run, int repeats)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++)
            run();
        return clock.Elapsed.TotalSeconds / repeats;
    }

    private static PackedModel LeNet()
    {
        var spec = ShapeInference.Infer(new NetworkSpec("LeNet", TensorShape.Image(1, 28, 28), new EquatableArray<LayerSpec>(new LayerAttribute[]
        {
            new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
            new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1), new FlattenAttribute(),
            new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1), new FullyConnectedAttribute(10),
            new SoftmaxCrossEntropyAttribute(),
        }.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();
        var network = new SpecNetwork(spec, 1);
        network.Initialize(1);
        return ModelConverter.Convert(spec, name => network.Parameter(name).Value);
    }
}
