// GPU softmax cross-entropy (loss, accuracy, gradient) against SoftmaxCrossEntropy, and the GPU Adam and SGD steps
// against Adam and SgdMomentum.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuLossAndAdamTests
{
    // Per row both sides run the same float and double operations; only the order of the final sum of row losses
    // differs (a tree in shared memory against a loop), a change of order 1e-16 in double. On CUDA, MathF.Exp /
    // MathF.Sqrt / division may be a few ulp from the CPU's correctly rounded results and an FMA may be contracted:
    // a relative error of a few 1e-7 per value, so 1e-5 · (1 + |expected|) leaves a wide margin.
    private const float Tolerance = 1e-5f;

    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SoftmaxCrossEntropyMatchesTheRuntimeLoss(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(61);
        // One class, a batch under the group size, and one above it (threads take several rows).
        foreach (var (batch, classes) in new[] { (3, 1), (7, 10), (300, 13) })
        {
            var logits = new float[batch * classes];
            for (int i = 0; i < logits.Length; i++)
                logits[i] = (random.NextSingle() * 2f - 1f) * 6f;
            if (classes > 2)
                logits[1] = logits[2] = 50f;  // a tie for the largest logit: the first one is the prediction
            var labels = new int[batch];
            for (int b = 0; b < batch; b++)
                labels[b] = random.Next(classes);
            var loss = new SoftmaxCrossEntropy(batch, classes);
            float expected = loss.Forward(logits, labels);
            var expectedGradient = new float[logits.Length];
            loss.Backward(expectedGradient);

            var actual = GpuTrainingChecks.RunSoftmaxCrossEntropy(device, logits, labels, batch, classes);
            GpuTolerance.Close([expected], [actual.Loss], Tolerance, "loss");
            Assert.Equal(loss.Correct, actual.Correct);
            GpuTolerance.Close(loss.Probabilities, actual.Probabilities, Tolerance, "probabilities");
            GpuTolerance.Close(expectedGradient, actual.Gradient, Tolerance, "dLogits");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AdamStepsMatchTheRuntimeOptimizerWithTheLatentWeightClip(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        var random = new Random(62);
        // A latent weight (decayed, clipped to [-1, 1]: start near the edges so the clip acts) and a bias (neither).
        var latent = new Parameter("conv.weight", [3, 37], ParameterRole.LatentWeight, bits: 1);
        var bias = new Parameter("conv.bias", [37], ParameterRole.Bias);
        foreach (var parameter in new[] { latent, bias })
            for (int i = 0; i < parameter.Length; i++)
                parameter.Value[i] = (random.NextSingle() * 2f - 1f) * 1.01f;
        const float weightDecay = 0.01f, learningRate = 0.05f;
        var adam = new Adam([latent, bias], beta1: 0.8f, beta2: 0.99f, epsilon: 1e-6f, weightDecay: weightDecay);

        using var latentWeights = device.Accelerator.Allocate1D(latent.Value);
        using var biasWeights = device.Accelerator.Allocate1D(bias.Value);
        using var latentGradient = device.Allocate<float>(latent.Length);
        using var biasGradient = device.Allocate<float>(bias.Length);
        using var moments = device.Allocate<float>(2L * (latent.Length + bias.Length));
        moments.View.MemSetToZero();
        var latentM = moments.View.SubView(0, latent.Length);
        var latentV = moments.View.SubView(latent.Length, latent.Length);
        var biasM = moments.View.SubView(2L * latent.Length, bias.Length);
        var biasV = moments.View.SubView(2L * latent.Length + bias.Length, bias.Length);
        for (int step = 1; step <= 3; step++)
        {
            foreach (var parameter in new[] { latent, bias })
                for (int i = 0; i < parameter.Length; i++)
                    parameter.Gradient[i] = (random.NextSingle() * 2f - 1f) * 0.5f;
            latentGradient.CopyFromCPU(latent.Gradient);
            biasGradient.CopyFromCPU(bias.Gradient);
            adam.Step(learningRate);
            GpuAdam.Step(device, latentWeights.View, latentGradient.View, latentM, latentV, latent.Length, step, learningRate,
                0.8f, 0.99f, 1e-6f, weightDecay, clipToUnit: true);
            GpuAdam.Step(device, biasWeights.View, biasGradient.View, biasM, biasV, bias.Length, step, learningRate, 0.8f, 0.99f, 1e-6f);
            GpuTolerance.Close(latent.Value, latentWeights.GetAsArray1D(), Tolerance, $"latent weights after step {step}");
            GpuTolerance.Close(bias.Value, biasWeights.GetAsArray1D(), Tolerance, $"bias after step {step}");
        }
        Assert.All(latentWeights.GetAsArray1D(), w => Assert.InRange(w, -1f, 1f));
        Assert.Contains(latent.Value, w => MathF.Abs(w) == 1f);  // the clip acted
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SgdStepsMatchTheRuntimeOptimizerWithTheLatentWeightClip(GpuDeviceKind kind)
    {
        var device = GpuTestDevices.Get(kind);
        foreach (bool nesterov in new[] { false, true })
        {
            var random = new Random(nesterov ? 64 : 63);
            // A latent weight (decayed, clipped to [-1, 1]: start near the edges so the clip acts) and a bias (neither);
            // 37 and 111 elements leave tails beside the CPU's Vector<float> loop.
            var latent = new Parameter("conv.weight", [3, 37], ParameterRole.LatentWeight, bits: 1);
            var bias = new Parameter("conv.bias", [37], ParameterRole.Bias);
            foreach (var parameter in new[] { latent, bias })
                for (int i = 0; i < parameter.Length; i++)
                    parameter.Value[i] = (random.NextSingle() * 2f - 1f) * 1.01f;
            const float weightDecay = 0.01f, learningRate = 0.05f, momentum = 0.8f;
            var sgd = new SgdMomentum([latent, bias], momentum, weightDecay, nesterov);

            using var latentWeights = device.Accelerator.Allocate1D(latent.Value);
            using var biasWeights = device.Accelerator.Allocate1D(bias.Value);
            using var latentGradient = device.Allocate<float>(latent.Length);
            using var biasGradient = device.Allocate<float>(bias.Length);
            using var latentBuffer = device.Allocate<float>(latent.Length);
            using var biasBuffer = device.Allocate<float>(bias.Length);
            latentBuffer.View.MemSetToZero();
            biasBuffer.View.MemSetToZero();
            for (int step = 1; step <= 3; step++)
            {
                foreach (var parameter in new[] { latent, bias })
                    for (int i = 0; i < parameter.Length; i++)
                        parameter.Gradient[i] = (random.NextSingle() * 2f - 1f) * 4f;
                latentGradient.CopyFromCPU(latent.Gradient);
                biasGradient.CopyFromCPU(bias.Gradient);
                sgd.Step(learningRate);
                GpuSgd.Step(device, latentWeights.View, latentGradient.View, latentBuffer.View, latent.Length, learningRate, momentum,
                    weightDecay, nesterov, clipToUnit: true);
                GpuSgd.Step(device, biasWeights.View, biasGradient.View, biasBuffer.View, bias.Length, learningRate, momentum, 0f, nesterov);
                string what = $"{(nesterov ? "Nesterov" : "momentum")} step {step}";
                // The same operations in the same order as the CPU's: exact on the CPU accelerator.
                GpuTolerance.SameFloats(kind, latent.Value, latentWeights.GetAsArray1D(), $"latent weights, {what}");
                GpuTolerance.SameFloats(kind, bias.Value, biasWeights.GetAsArray1D(), $"bias, {what}");
                var buffers = sgd.State.Where(t => t.Name.EndsWith(".sgd_momentum", StringComparison.Ordinal)).ToArray();
                GpuTolerance.SameFloats(kind, buffers[0].Value, latentBuffer.GetAsArray1D(), $"latent momentum, {what}");
                GpuTolerance.SameFloats(kind, buffers[1].Value, biasBuffer.GetAsArray1D(), $"bias momentum, {what}");
            }
            Assert.Contains(latent.Value, w => MathF.Abs(w) == 1f);  // the clip acted
            Assert.Contains(bias.Value, w => MathF.Abs(w) > 1f);     // and only on the latent weights
        }
    }

    [Fact]
    public void SgdRejectsBadSettingsNamingThem()
    {
        var device = GpuTestDevices.Get(GpuDeviceKind.Cpu);
        using var buffer = device.Allocate<float>(4);
        var view = buffer.View;
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => GpuSgd.Step(device, view, view, view, 4, 0.1f, momentum: 1f)).ParamName);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => GpuSgd.Step(device, view, view, view, 4, float.NaN)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => GpuSgd.Step(device, view, view, view, 4, 0.1f, weightDecay: -1f)).ParamName);
        Assert.Throws<ArgumentException>(() => GpuSgd.Step(device, view, view, view, 5, 0.1f));
    }
}
