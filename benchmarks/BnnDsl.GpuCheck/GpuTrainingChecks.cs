// The device check's binary-convolution and training-kernel checks: each GPU kernel against the CPU kernel, layer or
// optimizer it reproduces, on small shapes with tails (bit-exact for the convolution, float tolerance for training).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Kernels.Reference;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.GpuCheck;

/// <summary>
/// The tolerances are those of tests/BnnDsl.Kernels.Gpu.Tests (which explain them): 1e-4 · (1 + |expected|) for batch
/// norm, 1e-5 for pooling, the loss and Adam; sign, ReLU and max pooling are exact.
/// </summary>
internal static class GpuTrainingChecks
{
    private static readonly Conv2dShape[] ConvShapes =
    [
        new(2, 5, 7, 65, 3, 3, 3, 1, 1, 1, 1), new(2, 6, 5, 64, 70, 3, 3, 2, 2, 1, 1), Conv2dShape.Square(1, 7, 130, 5, 3, 2, 0),
    ];

    public static string? BinaryConv(GpuDevice device, bool thresholdBits)
    {
        var random = new Random(21);
        foreach (var shape in ConvShapes)
            foreach (var padding in new[] { BinaryPadding.One, BinaryPadding.Zero })
            {
                var input = RandomOperands.UniformFloats(random, shape.Batch * shape.Height * shape.Width * shape.Channels);
                var weights = RandomOperands.UniformFloats(random, shape.Filters * shape.KernelH * shape.KernelW * shape.Channels);
                var dots = BinaryConv2dReference.Dots(input, weights, shape, padding);
                using var inputBits = device.Accelerator.Allocate1D(Pack(input, shape.Channels));
                using var weightBits = device.Accelerator.Allocate1D(Pack(weights, shape.Channels));
                if (thresholdBits)
                {
                    var threshold = new int[shape.Filters];
                    for (int o = 0; o < threshold.Length; o++)
                        threshold[o] = random.Next(-9, 10);
                    var expected = BinaryConv2dReference.Threshold(dots, shape, threshold);
                    using var thresholdBuffer = device.Accelerator.Allocate1D(threshold);
                    using var bits = device.Allocate<ulong>(expected.Length);
                    GpuBinaryConv2d.ForwardThreshold<Tile32x32>(device, inputBits.View, weightBits.View, shape, padding, thresholdBuffer.View, bits.View);
                    if (!expected.AsSpan().SequenceEqual(bits.GetAsArray1D()))
                        return $"{shape} {padding} differs from BinaryConv2dReference.Threshold";
                }
                else
                {
                    using var output = device.Allocate<int>(dots.Length);
                    GpuBinaryConv2d.Forward<Tile64x64>(device, inputBits.View, weightBits.View, shape, padding, output.View);
                    if (!dots.AsSpan().SequenceEqual(output.GetAsArray1D()))
                        return $"{shape} {padding} differs from BinaryConv2dReference";
                }
            }
        return null;
    }

    public static string? SignAndRelu(GpuDevice device)
    {
        var random = new Random(31);
        var x = RandomOperands.UniformFloats(random, 777);
        x[0] = 1f;
        x[1] = -1f;
        x[2] = MathF.BitIncrement(1f);
        x[3] = 0f;
        var dy = RandomOperands.UniformFloats(random, x.Length);
        using var xBuffer = device.Accelerator.Allocate1D(x);
        using var dyBuffer = device.Accelerator.Allocate1D(dy);
        using var yBuffer = device.Allocate<float>(x.Length);
        using var dxBuffer = device.Allocate<float>(x.Length);
        foreach (bool sign in new[] { true, false })
        {
            Layer layer = sign ? new SignLayer("sign", 1, x.Length) : new ReLULayer("relu", 1, x.Length);
            var (y, dx) = LayerStep(layer, x, dy);
            if (sign)
            {
                GpuElementwise.Sign(device, xBuffer.View, yBuffer.View, x.Length);
                GpuElementwise.SignBackward(device, xBuffer.View, dyBuffer.View, dxBuffer.View, x.Length);
            }
            else
            {
                GpuElementwise.Relu(device, xBuffer.View, yBuffer.View, x.Length);
                GpuElementwise.ReluBackward(device, xBuffer.View, dyBuffer.View, dxBuffer.View, x.Length);
            }
            if (!y.AsSpan().SequenceEqual(yBuffer.GetAsArray1D()) || !dx.AsSpan().SequenceEqual(dxBuffer.GetAsArray1D()))
                return $"{layer.GetType().Name} differs";
        }
        return null;
    }

    public static string? BatchNorm(GpuDevice device)
    {
        var random = new Random(41);
        foreach (var (batch, positions, channels) in new[] { (2, 1, 70), (3, 50, 13) })
        {
            int rows = batch * positions, count = rows * channels;
            var layer = new BatchNormLayer("bn", batch, positions, channels);
            for (int c = 0; c < channels; c++)
            {
                layer.Gamma.Value[c] = 0.5f + random.NextSingle();
                layer.Beta.Value[c] = random.NextSingle() - 0.5f;
            }
            var x = RandomOperands.UniformFloats(random, count);
            for (int i = 0; i < count; i++)
                x[i] = 3f + 2f * x[i];
            var dy = RandomOperands.UniformFloats(random, count);
            using var gamma = device.Accelerator.Allocate1D(layer.Gamma.Value);
            using var beta = device.Accelerator.Allocate1D(layer.Beta.Value);
            using var runningMean = device.Accelerator.Allocate1D(layer.RunningMean.Value);
            using var runningVar = device.Accelerator.Allocate1D(layer.RunningVar.Value);
            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var dyBuffer = device.Accelerator.Allocate1D(dy);
            using var statistics = device.Allocate<float>(4L * channels);
            using var scratch = device.Allocate<float>(GpuBatchNorm.ScratchLength(rows, channels));
            using var y = device.Allocate<float>(count);
            using var dx = device.Allocate<float>(count);
            var (mean, inverseStd) = (statistics.View.SubView(0, channels), statistics.View.SubView(channels, channels));
            var (dGamma, dBeta) = (statistics.View.SubView(2L * channels, channels), statistics.View.SubView(3L * channels, channels));
            var (expectedY, expectedDx) = (new float[count], new float[count]);
            layer.Forward(x, expectedY, training: true);
            layer.Backward(x, expectedY, dy, expectedDx);
            GpuBatchNorm.ForwardTraining(device, xBuffer.View, rows, channels, gamma.View, beta.View, runningMean.View, runningVar.View,
                layer.Momentum, layer.Epsilon, mean, inverseStd, scratch.View, y.View);
            GpuBatchNorm.Backward(device, xBuffer.View, dyBuffer.View, rows, channels, gamma.View, mean, inverseStd, dGamma, dBeta,
                scratch.View, dx.View);
            string? problem = Close(expectedY, y.GetAsArray1D(), 1e-4f, "y") ?? Close(expectedDx, dx.GetAsArray1D(), 1e-4f, "dx")
                ?? Close(layer.RunningVar.Value, runningVar.GetAsArray1D(), 1e-4f, "running var")
                ?? Close(layer.Gamma.Gradient, dGamma.GetAsArray1D(), 1e-4f, "dgamma") ?? Close(layer.Beta.Gradient, dBeta.GetAsArray1D(), 1e-4f, "dbeta");
            if (problem is not null)
                return $"({batch}, {positions}, {channels}) {problem}";
        }
        return null;
    }

    public static string? Pooling(GpuDevice device)
    {
        var random = new Random(51);
        foreach (var s in new[] { new Pool2dShape(2, 5, 7, 3, 3, 3, 2, 2, 1, 1), Pool2dShape.Square(1, 6, 9, 2, 2, 0) })
        {
            var max = new MaxPoolLayer("max", s.Batch, s.Height, s.Width, s.Channels, s.KernelH, s.StrideH, s.PadH);
            var average = new AvgPoolLayer("avg", s.Batch, s.Height, s.Width, s.Channels, s.KernelH, s.StrideH, s.PadH);
            var x = new float[max.InputLength];
            for (int i = 0; i < x.Length; i++)
                x[i] = random.Next(4) - 1.5f;  // ties
            var dy = RandomOperands.UniformFloats(random, max.OutputLength);
            using var xBuffer = device.Accelerator.Allocate1D(x);
            using var dyBuffer = device.Accelerator.Allocate1D(dy);
            using var y = device.Allocate<float>(dy.Length);
            using var argmax = device.Allocate<int>(dy.Length);
            using var dx = device.Allocate<float>(x.Length);
            var (expectedY, expectedDx) = (new float[dy.Length], new float[x.Length]);
            max.Forward(x, expectedY, training: true);
            max.Backward(x, expectedY, dy, expectedDx);
            GpuMaxPool.Forward(device, xBuffer.View, s, y.View, argmax.View);
            GpuMaxPool.Backward(device, dyBuffer.View, argmax.View, s, dx.View);
            if (!expectedY.AsSpan().SequenceEqual(y.GetAsArray1D()) || !expectedDx.AsSpan().SequenceEqual(dx.GetAsArray1D()))
                return $"max pool {s} differs from MaxPoolLayer";
            average.Forward(x, expectedY, training: true);
            average.Backward(x, expectedY, dy, expectedDx);
            GpuAvgPool.Forward(device, xBuffer.View, s, y.View);
            GpuAvgPool.Backward(device, dyBuffer.View, s, dx.View);
            string? problem = Close(expectedY, y.GetAsArray1D(), 1e-5f, "avg y") ?? Close(expectedDx, dx.GetAsArray1D(), 1e-5f, "avg dx");
            if (problem is not null)
                return $"{s} {problem}";
        }
        var global = new GlobalAvgPoolLayer("gap", 3, 5, 7, 13);
        var gx = RandomOperands.UniformFloats(random, global.InputLength);
        var gdy = RandomOperands.UniformFloats(random, global.OutputLength);
        var (gy, gdx) = LayerStep(global, gx, gdy);
        using var gxBuffer = device.Accelerator.Allocate1D(gx);
        using var gdyBuffer = device.Accelerator.Allocate1D(gdy);
        using var gyBuffer = device.Allocate<float>(gy.Length);
        using var gdxBuffer = device.Allocate<float>(gdx.Length);
        GpuAvgPool.GlobalForward(device, gxBuffer.View, 3, 35, 13, gyBuffer.View);
        GpuAvgPool.GlobalBackward(device, gdyBuffer.View, 3, 35, 13, gdxBuffer.View);
        return Close(gy, gyBuffer.GetAsArray1D(), 1e-5f, "global avg y") ?? Close(gdx, gdxBuffer.GetAsArray1D(), 1e-5f, "global avg dx");
    }

    public static string? SoftmaxCrossEntropy(GpuDevice device)
    {
        var random = new Random(61);
        const int batch = 300, classes = 13;
        var logits = RandomOperands.UniformFloats(random, batch * classes);
        for (int i = 0; i < logits.Length; i++)
            logits[i] *= 6f;
        var labels = new int[batch];
        for (int b = 0; b < batch; b++)
            labels[b] = random.Next(classes);
        var loss = new Runtime.Layers.SoftmaxCrossEntropy(batch, classes);
        float expected = loss.Forward(logits, labels);
        var expectedGradient = new float[logits.Length];
        loss.Backward(expectedGradient);
        var actual = RunSoftmaxCrossEntropy(device, logits, labels, batch, classes);
        if (actual.Correct != loss.Correct)
            return $"correct is {actual.Correct}, SoftmaxCrossEntropy says {loss.Correct}";
        return Close([expected], [actual.Loss], 1e-5f, "loss") ?? Close(expectedGradient, actual.Gradient, 1e-5f, "dLogits");
    }

    /// <summary>The CPU layer's training-mode forward on <paramref name="x"/>, then its backward of <paramref name="dy"/>: fresh y and dx.</summary>
    public static (float[] Y, float[] Dx) LayerStep(Layer layer, float[] x, float[] dy)
    {
        var (y, dx) = (new float[layer.OutputLength], new float[layer.InputLength]);
        layer.Forward(x, y, training: true);
        layer.Backward(x, y, dy, dx);
        return (y, dx);
    }

    /// <summary>GpuSoftmaxCrossEntropy forward then backward on host arrays: the mean loss, probabilities, correct count and dLogits.</summary>
    public static (float Loss, float[] Probabilities, int Correct, float[] Gradient) RunSoftmaxCrossEntropy(GpuDevice device,
        float[] logits, int[] labels, int batch, int classes)
    {
        using var logitBuffer = device.Accelerator.Allocate1D(logits);
        using var labelBuffer = device.Accelerator.Allocate1D(labels);
        using var probabilities = device.Allocate<float>(logits.Length);
        using var loss = device.Allocate<float>(1);
        using var correct = device.Allocate<int>(1);
        using var gradient = device.Allocate<float>(logits.Length);
        GpuSoftmaxCrossEntropy.Forward(device, logitBuffer.View, labelBuffer.View, batch, classes, probabilities.View, loss.View, correct.View);
        GpuSoftmaxCrossEntropy.Backward(device, probabilities.View, labelBuffer.View, batch, classes, gradient.View);
        return (loss.GetAsArray1D()[0], probabilities.GetAsArray1D(), correct.GetAsArray1D()[0], gradient.GetAsArray1D());
    }

    public static string? Adam(GpuDevice device)
    {
        var random = new Random(62);
        var latent = new Parameter("w", [111], ParameterRole.LatentWeight, bits: 1);
        for (int i = 0; i < latent.Length; i++)
            latent.Value[i] = (random.NextSingle() * 2f - 1f) * 1.01f;
        var adam = new Runtime.Training.Adam([latent], weightDecay: 0.01f);
        using var weights = device.Accelerator.Allocate1D(latent.Value);
        using var gradient = device.Allocate<float>(latent.Length);
        using var m = device.Allocate<float>(latent.Length);
        using var v = device.Allocate<float>(latent.Length);
        m.View.MemSetToZero();
        v.View.MemSetToZero();
        for (int step = 1; step <= 3; step++)
        {
            for (int i = 0; i < latent.Length; i++)
                latent.Gradient[i] = random.NextSingle() - 0.5f;
            gradient.CopyFromCPU(latent.Gradient);
            adam.Step(0.05f);
            GpuAdam.Step(device, weights.View, gradient.View, m.View, v.View, latent.Length, step, 0.05f, weightDecay: 0.01f, clipToUnit: true);
            if (Close(latent.Value, weights.GetAsArray1D(), 1e-5f, $"weights after step {step}") is string problem)
                return problem;
        }
        return null;
    }

    public static string? Sgd(GpuDevice device)
    {
        var random = new Random(63);
        var latent = new Parameter("w", [111], ParameterRole.LatentWeight, bits: 1);
        for (int i = 0; i < latent.Length; i++)
            latent.Value[i] = (random.NextSingle() * 2f - 1f) * 1.01f;
        var sgd = new Runtime.Training.SgdMomentum([latent], 0.9f, weightDecay: 0.01f, nesterov: true);
        using var weights = device.Accelerator.Allocate1D(latent.Value);
        using var gradient = device.Allocate<float>(latent.Length);
        using var buffer = device.Allocate<float>(latent.Length);
        buffer.View.MemSetToZero();
        for (int step = 1; step <= 3; step++)
        {
            for (int i = 0; i < latent.Length; i++)
                latent.Gradient[i] = random.NextSingle() - 0.5f;
            gradient.CopyFromCPU(latent.Gradient);
            sgd.Step(0.05f);
            GpuSgd.Step(device, weights.View, gradient.View, buffer.View, latent.Length, 0.05f, 0.9f, 0.01f, nesterov: true, clipToUnit: true);
            if (Close(latent.Value, weights.GetAsArray1D(), 1e-5f, $"weights after step {step}") is string problem)
                return problem;
        }
        return null;
    }

    private static string? Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float relative, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(actual[i] - expected[i]) <= relative * (1f + MathF.Abs(expected[i]))))
                return $"{what}[{i}] is {actual[i]:R}, the CPU's {expected[i]:R}";
        return null;
    }

    private static ulong[] Pack(float[] values, int channels)
    {
        int rows = values.Length / channels;
        var packed = new ulong[rows * SignPacking.WordsFor(channels)];
        BnnDsl.Kernels.Cpu.SignPacking.Pack(values, rows, channels, packed);
        return packed;
    }
}
