// A whole small binary LeNet on the device against SpecNetwork on the CPU: one forward + backward + optimizer step (Adam
// or SGD) gives the same loss, gradients, parameters and optimizer state; and what the device network refuses.
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Gpu.Tests;

public sealed class DeviceNetworkTests
{
    private const int Batch = 8;
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData("lenet", "adam")]
    [InlineData("resnet", "adam")]
    [InlineData("lenet", "sgd")]
    public void OneOptimizerStepMatchesSpecNetworkOnTheCpu(string network, string optimizer)
    {
        var spec = network == "lenet" ? DeviceTestData.SmallLeNet() : DeviceTestData.SmallResNet();
        var host = new SpecNetwork(spec, Batch);
        host.Initialize(21);
        // SGD: Nesterov momentum (both of its terms) with coupled decay; the momentum buffers uploaded for step 2 are the
        // host's after step 1, so their upload is checked too.
        Optimizer Create(Network n) => optimizer == "adam"
            ? new Adam(n.Parameters, weightDecay: 1e-4f)
            : new SgdMomentum(n.Parameters, momentum: 0.9f, weightDecay: 1e-4f, nesterov: true);
        var hostAdam = Create(host);
        var random = new Random(4);
        var input = DeviceTestData.Uniform(random, Batch * host.InputLength, 1f);
        var labels = Enumerable.Range(0, Batch).Select(_ => random.Next(10)).ToArray();

        using var device = new DeviceNetwork(DeviceTestData.Device, spec, Batch);
        Assert.Equal(host.Parameters.Select(p => p.Name), device.ParameterNames);
        // Step 2 starts again from the host's state (so conv1's noise below does not carry over) and checks Adam at t = 2.
        for (int step = 1; step <= 2; step++)
        {
            device.Upload(host, hostAdam);
            host.Forward(input, training: true);
            float hostLoss = host.Loss(labels);
            host.Backward(input);
            hostAdam.Step(1e-3f);
            var result = device.TrainStep(input, labels, 1e-3f);
            Assert.Equal(hostLoss, result.Loss, Tolerance);
            Assert.Equal(host.Correct, result.Correct);
            Assert.Equal(step, device.Steps);

            var mirror = new SpecNetwork(spec, Batch);
            var mirrorAdam = Create(mirror);
            device.Download(mirror, mirrorAdam);
            device.DownloadGradients(mirror);
            Assert.Equal(hostAdam.Steps, mirrorAdam.Steps);
            foreach (var (expected, actual) in host.Parameters.Zip(mirror.Parameters))
            {
                if (expected.Trainable)
                    DeviceTestData.Close(expected.Gradient, actual.Gradient, Tolerance, $"step {step} d{expected.Name}");
                AdamValuesClose(expected, actual, step);
            }
            foreach (var (expected, actual) in hostAdam.State.Where(t => !t.Name.EndsWith(".adam_v", StringComparison.Ordinal)).Zip(
                mirrorAdam.State.Where(t => !t.Name.EndsWith(".adam_v", StringComparison.Ordinal))))
                DeviceTestData.Close(expected.Value, actual.Value, Tolerance, $"step {step} {expected.Name}");
        }

        // Evaluation forward with the running statistics gives the host's logits, from the same parameters: the
        // device's own differ within the tolerances above, and on CUDA (FMA contraction, cuBLAS's summation order) such
        // a difference can flip a binary weight whose latent value Adam moved across zero, which changes logits by more.
        device.Upload(host, hostAdam);
        host.Forward(input, training: false);
        device.Forward(input, training: false);
        var logits = new float[Batch * device.OutputLength];
        device.CopyOutput(logits);
        DeviceTestData.Close(host.Output, logits, 1e-3f, "evaluation logits");
    }

    /// <summary>
    /// Parameters within 1e-4, except where the gradient is rounding noise: conv1's bias feeds a BatchNorm, which removes
    /// any per-channel constant, so its exact gradient is 0 and both sides hold ~1e-9 of noise that Adam normalizes into
    /// steps of up to lr either way. There the two values only have to stay within lr per step of each other.
    /// </summary>
    private static void AdamValuesClose(Parameter expected, Parameter actual, int step)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            bool noise = expected.Trainable && MathF.Abs(expected.Gradient[i]) < 1e-6f;
            float tolerance = noise ? 2e-3f * step : Tolerance;
            if (!(MathF.Abs(expected.Value[i] - actual.Value[i]) <= tolerance))
                Assert.Fail($"step {step} {expected.Name}[{i}]: expected {expected.Value[i]:R}, got {actual.Value[i]:R} (gradient {(expected.Trainable ? expected.Gradient[i] : float.NaN):R}).");
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void UploadThenDownloadGivesTheSameTensorsBack(string optimizer)
    {
        var spec = DeviceTestData.SmallLeNet();
        var host = new SpecNetwork(spec, 2);
        host.Initialize(5);
        Optimizer Create(Network n) => optimizer == "adam" ? new Adam(n.Parameters) : new SgdMomentum(n.Parameters);
        var adam = Create(host);
        var random = new Random(9);
        foreach (var tensor in adam.State.Where(t => t.Name != Optimizer.StepTensorName))
            DeviceTestData.Uniform(random, tensor.Length, 1f).CopyTo(tensor.Value, 0);
        adam.State.Single(t => t.Name == Optimizer.StepTensorName).Value[0] = 7;

        using var device = new DeviceNetwork(DeviceTestData.Device, spec, 2);
        device.Upload(host, adam);
        Assert.Equal(7, device.Steps);
        var copy = new SpecNetwork(spec, 2);
        var copyAdam = Create(copy);
        device.Download(copy, copyAdam);
        foreach (var (expected, actual) in host.Parameters.Zip(copy.Parameters))
            Assert.Equal(expected.Value, actual.Value);
        foreach (var (expected, actual) in adam.State.Zip(copyAdam.State))
            Assert.Equal(expected.Value, actual.Value);
    }

    [Fact]
    public void KBitLayersAreRefusedNamingTheLayerAndTheFix()
    {
        var spec = DeviceTestData.Infer("TwoBit", TensorShape.Image(1, 6, 6),
            new ConvolutionAttribute(4, 3), new QActivationAttribute(2), new QConvolutionAttribute(4, 3) { WeightBits = 2, ActBits = 2 },
            new FlattenAttribute(), new FullyConnectedAttribute(3), new SoftmaxCrossEntropyAttribute());
        var error = Assert.Throws<NotSupportedException>(() => new DeviceNetwork(DeviceTestData.Device, spec, 2));
        Assert.Contains("'qact1' (QActivation, 2 bits)", error.Message);
        Assert.Contains("--device cpu", error.Message);
    }

    [Fact]
    public void OtherOptimizersAndMismatchedStateAreRefusedAndBadLabelsAreNamed()
    {
        var spec = DeviceTestData.SmallLeNet();
        var host = new SpecNetwork(spec, 2);
        using var device = new DeviceNetwork(DeviceTestData.Device, spec, 2);
        var unknown = Assert.Throws<NotSupportedException>(() => device.Upload(host, new HalvingOptimizer(host.Parameters)));
        Assert.Contains("HalvingOptimizer", unknown.Message);
        Assert.Contains("--device cpu", unknown.Message);
        // State downloaded into an optimizer of the other kind would be meaningless: refused, naming both.
        device.Upload(host, new SgdMomentum(host.Parameters));
        var mismatch = Assert.Throws<ArgumentException>(() => device.Download(host, new Adam(host.Parameters)));
        Assert.Contains("SGD", mismatch.Message);
        Assert.Contains("Adam", mismatch.Message);
        var error = Assert.Throws<ArgumentException>(() => device.TrainStep(new float[2 * host.InputLength], [0, 10], 1e-3f));
        Assert.Contains("label 10", error.Message);
        Assert.Throws<ArgumentException>(() => new DeviceNetwork(ComputeDevice.Open(ComputeDeviceKind.Cpu), spec, 2));
    }

    /// <summary>An optimizer the device has no step for.</summary>
    private sealed class HalvingOptimizer(IReadOnlyList<Parameter> parameters) : Optimizer(parameters, 0f)
    {
        protected override void Update(int index, float[] value, float[] gradient, float learningRate, float weightDecay, long step)
        {
            for (int i = 0; i < value.Length; i++)
                value[i] *= 0.5f;
        }
    }
}
