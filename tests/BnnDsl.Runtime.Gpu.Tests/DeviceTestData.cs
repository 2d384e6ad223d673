// Shared pieces of the device tests: the device opened once (ILGPU's CPU accelerator, or CUDA under bnn-gpu-check --tests), small specs, random values, tolerances.
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Runtime.Gpu.Tests;

internal static class DeviceTestData
{
    /// <summary>The variable naming the device the tests run on: unset, ILGPU's CPU accelerator; <c>cuda</c> on a GPU (bnn-gpu-check --tests sets it).</summary>
    public const string DeviceVariable = "BNN_TEST_DEVICE";

    private static readonly Lazy<ComputeDevice> Shared = new(() =>
        ComputeDevice.Open(Environment.GetEnvironmentVariable(DeviceVariable) is { Length: > 0 } name ? ComputeDevice.Parse(name) : ComputeDeviceKind.IlgpuCpu));

    /// <summary>The device every device test runs on, opened once (its kernels compile once): see <see cref="DeviceVariable"/>.</summary>
    public static ComputeDevice Device => Shared.Value;

    /// <summary>The bound of <see cref="SameFloats"/> on CUDA, relative to the largest expected magnitude (at least 1).</summary>
    public const float CudaRounding = 1e-5f;

    /// <summary>Whether the tests run on CUDA, where float results may differ from .NET's by FMA contraction and cuBLAS's summation order.</summary>
    public static bool OnCuda => Device.Kind == ComputeDeviceKind.Cuda;

    /// <summary>
    /// Float outputs of a step whose CPU counterpart does the same operations in the same order: bit for bit on the CPU
    /// accelerator (the same .NET arithmetic); on CUDA within <see cref="CudaRounding"/> · max(1, max |expected|),
    /// since ptxas contracts a·b + c into one FMA and cuBLAS picks its own summation order per shape. A wrong integer
    /// dot behind a scale-bias output moves it by 2·|scale|, far more.
    /// </summary>
    public static void SameFloats(float[] expected, float[] actual, string what)
    {
        if (OnCuda)
            Close(expected, actual, CudaRounding, what + " (CUDA)");
        else
            Assert.Equal(expected, actual);
    }

    /// <summary>A LeNet in miniature: float conv + BN + max pool + sign, binary conv (padded) + BN + sign, binary dense + BN + sign, dense 10.</summary>
    public static NetworkSpec SmallLeNet() => Infer("SmallLeNet", TensorShape.Image(1, 12, 12),
        new ConvolutionAttribute(8, 3), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(16, 3) { Pad = 1 }, new BatchNormAttribute(), new QActivationAttribute(1),
        new FlattenAttribute(), new QFullyConnectedAttribute(32), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute());

    /// <summary>
    /// A residual network in miniature: float stem + BN, a binary block with the identity shortcut, a downsampling binary
    /// block (stride 2, zero padding) whose shortcut is average pool + 1x1 float conv + BN, global average pool, dense.
    /// </summary>
    public static NetworkSpec SmallResNet() => Infer("SmallResNet", TensorShape.Image(3, 8, 8),
        new ConvolutionAttribute(8, 3) { Pad = 1 }, new BatchNormAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(8, 3) { Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(16, 3) { Stride = 2, Pad = 1, Padding = Padding.Zero },
        new BatchNormAttribute(), new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(16, 1), new BatchNormAttribute(),
        new EndResidualAttribute(),
        new GlobalAvgPoolAttribute(), new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute());

    /// <summary>The spec of <paramref name="layers"/> with every shape inferred.</summary>
    public static NetworkSpec Infer(string name, TensorShape input, params LayerAttribute[] layers) =>
        ShapeInference.Infer(new NetworkSpec(name, input, new EquatableArray<LayerSpec>(layers.Select(l => l.ToLayerSpec())))).GetNetworkOrThrow();

    /// <summary>Uniform values in [−range, range).</summary>
    public static float[] Uniform(Random random, int count, float range)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (random.NextSingle() * 2f - 1f) * range;
        return values;
    }

    /// <summary>Every |actual − expected| &lt;= relative · max(1, max |expected|); names the first element that is not.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1f;
        foreach (float e in expected)
            scale = MathF.Max(scale, MathF.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(actual[i] - expected[i]) <= relative * scale))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {relative} * {scale}).");
    }
}
