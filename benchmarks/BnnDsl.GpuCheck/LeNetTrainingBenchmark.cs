// Times LeNet training on the device (DeviceNetwork.TrainStep: batch up, forward, loss, backward, Adam, loss down),
// validated first against one host step.
using System.Diagnostics;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.GpuCheck;

/// <summary>Training throughput of one network on the device.</summary>
internal sealed record TrainingTiming(string Network, int Batch, double ImagesPerSecond, int Steps);

internal static class LeNetTrainingBenchmark
{
    /// <summary>
    /// The binary LeNet of examples/LeNet (MNIST-shaped 1×28×28 input, batch 128) or, for <paramref name="smoke"/>, a
    /// miniature of it (1×12×12, batch 4). Random normalized images and labels; the host <see cref="SpecNetwork"/>
    /// initializes the weights and <see cref="LayerByLayerCheck"/> validates the device's first forward pass and loss
    /// against the host layers (else <see cref="InvalidDataException"/>). Then steps are timed for about 2 s (at most
    /// <paramref name="maxSteps"/>), each a full <see cref="DeviceNetwork.TrainStep"/>, so the batch upload and the
    /// loss download are included.
    /// </summary>
    public static TrainingTiming Measure(GpuDevice device, bool smoke, int maxSteps, TextWriter output)
    {
        var spec = smoke ? MiniLeNet() : LeNet();
        int batch = smoke ? 4 : 128;
        var host = new SpecNetwork(spec, batch);
        host.Initialize(1);
        var adam = new Adam(host.Parameters);
        var random = new Random(7);
        var input = new float[batch * host.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = random.NextSingle() * 4f - 1f;
        var labels = new int[batch];
        for (int i = 0; i < batch; i++)
            labels[i] = random.Next(host.OutputLength);
        using var network = new DeviceNetwork(device, spec, batch);
        network.Upload(host, adam);
        output.WriteLine(LayerByLayerCheck.Run(spec, host, network, input, labels));
        network.Upload(host, adam);

        var clock = Stopwatch.StartNew();
        int steps = 0;
        while (steps < maxSteps && (steps == 0 || clock.Elapsed.TotalSeconds < 2))
        {
            network.TrainStep(input, labels, 1e-3f);
            steps++;
        }
        return new TrainingTiming(spec.Name, batch, steps * batch / clock.Elapsed.TotalSeconds, steps);
    }

    /// <summary>examples/LeNet: conv 64@5 + BN + pool + sign, binary conv 64@5 + BN + pool + sign, binary dense 512 + BN + sign, dense 10.</summary>
    internal static NetworkSpec LeNet() => Infer("LeNet", TensorShape.Image(1, 28, 28),
        new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new FlattenAttribute(), new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute());

    private static NetworkSpec MiniLeNet() => Infer("MiniLeNet", TensorShape.Image(1, 12, 12),
        new ConvolutionAttribute(8, 3), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(16, 3), new BatchNormAttribute(), new QActivationAttribute(1),
        new FlattenAttribute(), new QFullyConnectedAttribute(32), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute());

    internal static NetworkSpec Infer(string name, TensorShape input, params LayerAttribute[] layers) =>
        ShapeInference.Infer(new NetworkSpec(name, input, new EquatableArray<LayerSpec>(layers.Select(l => l.ToLayerSpec())))).GetNetworkOrThrow();
}
