// Packed models on the device (DeviceSession) against the CPU interpreter: LeNet timed (validated first), and the
// residual and 2-bit models checked, so every step of the device runtime runs in the check.
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
        var model = Convert(LeNet);
        var input = Input(model, batch);
        using var device = Open(kind);
        using var session = new DeviceSession(model, device, batch);
        var cpu = model.CreateSession(batch);
        var expected = new float[batch * model.OutputLength];
        var actual = new float[expected.Length];
        if (Compare("LeNet", model, session, cpu, input, batch) is string problem)
            throw new InvalidDataException(problem);
        double deviceSeconds = Seconds(() => session.Predict(input, batch, actual), repeats);
        double cpuSeconds = Seconds(() => cpu.Predict(input, batch, expected), repeats);
        output.WriteLine($"  LeNet packed inference b{batch}: device {deviceSeconds * 1e3:F3} ms, CPU interpreter {cpuSeconds * 1e3:F3} ms per batch");
        return new PackedInferenceTiming(batch, batch / deviceSeconds, batch / cpuSeconds);
    }

    /// <summary>
    /// The packed models whose plans use the device runtime's other steps, each run on the device and on the CPU
    /// interpreter (<see cref="Compare"/>): a packed flatten of 16 channels (repack) before a binary dense layer, residual blocks of binary convolutions and a binary dense layer with float outputs (XNOR scale-bias,
    /// residual add, a float 1×1 shortcut after an average pool, a lone BatchNorm), and 2-bit layers (bit planes,
    /// the bit-serial GEMM, the quantizer). One check line each.
    /// </summary>
    public static int CheckModels(GpuDeviceKind kind, TextWriter output)
    {
        int failed = 0;
        foreach (var (name, layers) in new[] { ("small binary model", Small), ("residual binary model", Residual), ("2-bit model", TwoBit) })
        {
            string? problem;
            try
            {
                var model = Convert(layers);
                var input = Input(model, 3);
                using var device = Open(kind);
                using var session = new DeviceSession(model, device, 3);
                problem = Compare(name, model, session, model.CreateSession(3), input, 3);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                problem = $"{e.GetType().Name}: {e.Message}";
            }
            output.WriteLine(problem is null ? $"check packed {name} on the device: ok" : $"check packed {name} on the device: FAILED: {problem}");
            failed += problem is null ? 0 : 1;
        }
        return failed;
    }

    /// <summary>
    /// Runs <paramref name="batch"/> samples on both (the first call of each is the warm-up: kernels compiled, buffers
    /// touched); null when the logits agree within 1e-4 of the largest and the classes are equal, else what differs.
    /// </summary>
    private static string? Compare(string name, PackedModel model, DeviceSession session, InferenceSession cpu, float[] input, int batch)
    {
        var expected = new float[batch * model.OutputLength];
        var actual = new float[expected.Length];
        cpu.Predict(input, batch, expected);
        session.Predict(input, batch, actual);
        float largest = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * Math.Max(1f, largest)))
                return $"{name} packed inference: logit {i} is {actual[i]} on the device but {expected[i]} on the CPU interpreter.";
        var expectedClasses = new int[batch];
        var actualClasses = new int[batch];
        cpu.Classify(input, batch, expectedClasses);
        session.Classify(input, batch, actualClasses);
        return expectedClasses.AsSpan().SequenceEqual(actualClasses) ? null
            : $"{name} packed inference: classes {string.Join(",", actualClasses)} on the device but {string.Join(",", expectedClasses)} on the CPU interpreter.";
    }

    private static ComputeDevice Open(GpuDeviceKind kind) =>
        ComputeDevice.Open(kind == GpuDeviceKind.Cuda ? ComputeDeviceKind.Cuda : ComputeDeviceKind.IlgpuCpu);

    private static float[] Input(PackedModel model, int batch)
    {
        var random = new Random(3);
        var input = new float[batch * model.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = random.NextSingle() * 3.2f - 0.42f;
        return input;
    }

    private static double Seconds(Action run, int repeats)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++)
            run();
        return clock.Elapsed.TotalSeconds / repeats;
    }

    /// <summary>examples/LeNet's layers.</summary>
    private static readonly (TensorShape Input, LayerAttribute[] Layers) LeNet = (TensorShape.Image(1, 28, 28),
    [
        new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1), new FlattenAttribute(),
        new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1), new FullyConnectedAttribute(10),
        new SoftmaxCrossEntropyAttribute(),
    ]);

    /// <summary>A float stem, a binary convolution with a packed max pool, the packed flatten of 16 channels (repack), binary and float dense layers.</summary>
    private static readonly (TensorShape Input, LayerAttribute[] Layers) Small = (TensorShape.Image(1, 12, 12),
    [
        new ConvolutionAttribute(8, 3), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new QActivationAttribute(1), new MaxPoolAttribute(2),
        new FlattenAttribute(), new QFullyConnectedAttribute(32), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute(),
    ]);

    /// <summary>
    /// Residual blocks of one-padded and zero-padded binary convolutions, a float 1×1 shortcut after an average pool,
    /// ReLU, pooling, a lone BatchNorm, and a binary dense layer whose BatchNorm feeds a float layer (scale-bias output).
    /// </summary>
    private static readonly (TensorShape Input, LayerAttribute[] Layers) Residual = (TensorShape.Image(3, 8, 8),
    [
        new ConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(24, 3) { Stride = 2, Pad = 1, Padding = Padding.Zero }, new BatchNormAttribute(),
        new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(24, 1), new BatchNormAttribute(), new EndResidualAttribute(),
        new ReLUAttribute(), new MaxPoolAttribute(2), new GlobalAvgPoolAttribute(), new BatchNormAttribute(),
        new QActivationAttribute(1), new QFullyConnectedAttribute(8), new BatchNormAttribute(), new FullyConnectedAttribute(3),
        new SoftmaxCrossEntropyAttribute(),
    ]);

    /// <summary>A 2-bit residual block, a 2-bit quantizer, a 2-bit dense layer with its BatchNorm, a float dense layer.</summary>
    private static readonly (TensorShape Input, LayerAttribute[] Layers) TwoBit = (TensorShape.Image(3, 8, 8),
    [
        new ConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(),
        new ResidualAttribute(), new QActivationAttribute(2), new QConvolutionAttribute(16, 3) { Pad = 1, WeightBits = 2, ActBits = 2 }, new BatchNormAttribute(), new EndResidualAttribute(),
        new QActivationAttribute(2), new GlobalAvgPoolAttribute(), new QFullyConnectedAttribute(8) { WeightBits = 2, ActBits = 2 }, new BatchNormAttribute(),
        new FullyConnectedAttribute(3), new SoftmaxCrossEntropyAttribute(),
    ]);

    /// <summary>The network of <paramref name="declaration"/>, randomly initialized (seed 1) and converted to a packed model.</summary>
    private static PackedModel Convert((TensorShape Input, LayerAttribute[] Layers) declaration)
    {
        var spec = ShapeInference.Infer(new NetworkSpec("Check", declaration.Input,
            new EquatableArray<LayerSpec>(declaration.Layers.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();
        var network = new SpecNetwork(spec, 1);
        network.Initialize(1);
        return ModelConverter.Convert(spec, name => network.Parameter(name).Value);
    }
}
