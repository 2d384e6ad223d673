// GPU sign (with its STE gradient) and ReLU (with its gradient) against the runtime's SignLayer and ReLULayer: exact.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Layers;
using ILGPU;

namespace BnnDsl.Kernels.Gpu.Tests;

public class GpuElementwiseTests
{
    public static TheoryData<GpuDeviceKind> Kinds => GpuTestDevices.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SignAndStraightThroughGradientEqualSignLayer(GpuDeviceKind kind)
        => EqualLayer(kind, 31, count => new SignLayer("sign", 1, count), GpuElementwise.Sign, GpuElementwise.SignBackward);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReluAndGradientEqualReLULayer(GpuDeviceKind kind)
        => EqualLayer(kind, 32, count => new ReLULayer("relu", 1, count), GpuElementwise.Relu, GpuElementwise.ReluBackward);

    /// <summary>The GPU forward and backward pair gives exactly the layer's y and dx on <see cref="Inputs"/>.</summary>
    private static void EqualLayer(GpuDeviceKind kind, int seed, Func<int, Layer> layerOf,
        Action<GpuDevice, ArrayView<float>, ArrayView<float>, int> forward,
        Action<GpuDevice, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> backward)
    {
        var (x, dy) = Inputs(seed);
        var (y, dx) = GpuTrainingChecks.LayerStep(layerOf(x.Length), x, dy);

        var device = GpuTestDevices.Get(kind);
        using var xBuffer = device.Accelerator.Allocate1D(x);
        using var dyBuffer = device.Accelerator.Allocate1D(dy);
        using var yBuffer = device.Allocate<float>(x.Length);
        using var dxBuffer = device.Allocate<float>(x.Length);
        forward(device, xBuffer.View, yBuffer.View, x.Length);
        backward(device, xBuffer.View, dyBuffer.View, dxBuffer.View, x.Length);
        Assert.Equal(y, yBuffer.GetAsArray1D());
        Assert.Equal(dx, dxBuffer.GetAsArray1D());
    }

    /// <summary>Random values in (−2, 2) with the edge cases first: ±1, the next float past 1, ±0 and NaN.</summary>
    private static (float[] X, float[] Dy) Inputs(int seed)
    {
        var random = new Random(seed);
        var x = new float[1001];
        var dy = new float[x.Length];
        float[] edges = [1f, -1f, MathF.BitIncrement(1f), MathF.BitDecrement(-1f), 0f, -0f, float.NaN];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i < edges.Length ? edges[i] : random.NextSingle() * 4f - 2f;
            dy[i] = random.NextSingle() * 2f - 1f;
        }
        return (x, dy);
    }
}
