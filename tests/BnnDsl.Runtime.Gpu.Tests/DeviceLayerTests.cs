// Every device training layer against the host layer it mirrors, on the same random inputs and parameters: forward
// output, dx and every parameter gradient (binary dots exact, float values within 1e-4 of the largest).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Gpu.Tests;

public sealed class DeviceLayerTests
{
    private const float Tolerance = 1e-4f;

    private static Kernels.Gpu.GpuDevice Gpu => DeviceTestData.Device.Gpu;

    [Theory]
    [InlineData(2, 6, 5, 3, 4, 3, 1, 1)]
    [InlineData(3, 7, 7, 2, 5, 3, 2, 0)]
    public void FloatConvolution(int batch, int h, int w, int c, int filters, int kernel, int stride, int pad)
    {
        var shape = new Conv2dShape(batch, h, w, c, filters, kernel, kernel, stride, stride, pad, pad);
        Compare(new Conv2dLayer("conv1", batch, h, w, c, filters, kernel, stride, pad), new DeviceConv2dLayer(Gpu, "conv1", shape, bias: true), 1);
    }

    [Theory]
    [InlineData(BinaryPadding.One, 1, 1)]
    [InlineData(BinaryPadding.Zero, 1, 1)]
    [InlineData(BinaryPadding.One, 2, 0)]
    public void BinaryConvolutionDotsAreExact(BinaryPadding padding, int stride, int pad)
    {
        var shape = new Conv2dShape(2, 6, 5, 70, 9, 3, 3, stride, stride, pad, pad);
        Compare(new BinaryConv2dLayer("qconv1", 2, 6, 5, 70, 9, 3, stride, pad, padding), new DeviceBinaryConv2dLayer(Gpu, "qconv1", shape, padding), 2,
            exactForward: true);
    }

    [Fact]
    public void FloatDense() => Compare(new DenseLayer("fc1", 5, 37, 11), new DeviceDenseLayer(Gpu, "fc1", 5, 37, 11, bias: true), 3);

    [Fact]
    public void BinaryDenseDotsAreExact() =>
        Compare(new BinaryDenseLayer("qfc1", 6, 130, 17), new DeviceBinaryDenseLayer(Gpu, "qfc1", 6, 130, 17), 4, exactForward: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNorm(bool training) =>
        Compare(new BatchNormLayer("bn1", 4, 9, 6), new DeviceBatchNormLayer(Gpu, "bn1", 4, 9, 6, 0.1f, 1e-5f), 5, training: training);

    [Fact]
    public void MaxPool()
    {
        var shape = new Pool2dShape(2, 6, 6, 3, 2, 2, 2, 2, 0, 0);
        Compare(new MaxPoolLayer("pool1", 2, 6, 6, 3, 2, 2), new DeviceMaxPoolLayer(Gpu, "pool1", shape), 6, exactForward: true);
    }

    [Fact]
    public void AvgPool()
    {
        var shape = new Pool2dShape(2, 7, 7, 3, 3, 3, 2, 2, 0, 0);
        Compare(new AvgPoolLayer("pool1", 2, 7, 7, 3, 3, 2), new DeviceAvgPoolLayer(Gpu, "pool1", shape), 7);
    }

    [Fact]
    public void GlobalAvgPool() =>
        Compare(new GlobalAvgPoolLayer("gap1", 3, 4, 5, 6), new DeviceGlobalAvgPoolLayer(Gpu, "gap1", 3, 20, 6), 8);

    [Fact]
    public void SignWithStraightThroughGradient() =>
        Compare(new SignLayer("qact1", 4, 33), new DeviceSignLayer(Gpu, "qact1", 4 * 33), 9, exactForward: true);

    [Fact]
    public void Relu() => Compare(new ReLULayer("relu1", 4, 33), new DeviceReluLayer(Gpu, "relu1", 4 * 33), 10, exactForward: true);

    /// <summary>
    /// Same parameters (latent weights past ±1 so the clip gate matters, positive running variances), x in (−2, 2) so
    /// the STE gates matter, random dy: compares y, dx, every gradient and the state a training forward updates.
    /// </summary>
    private static void Compare(Layer host, DeviceLayer device, int seed, bool exactForward = false, bool training = true)
    {
        using (device)
        {
            var random = new Random(seed);
            Assert.Equal(host.Parameters.Select(p => p.Name), device.Parameters.Select(p => p.Name));
            foreach (var (hostParameter, deviceParameter) in host.Parameters.Zip(device.Parameters))
            {
                var values = DeviceTestData.Uniform(random, hostParameter.Length, 1.2f);
                if (hostParameter.Name.EndsWith("running_var", StringComparison.Ordinal))
                    values = [.. values.Select(v => 1f + v / 2f)];
                values.CopyTo(hostParameter.Value, 0);
                deviceParameter.Value.CopyFromCPU(values);
            }
            var x = DeviceTestData.Uniform(random, host.InputLength, 2f);
            var dy = DeviceTestData.Uniform(random, host.OutputLength, 1f);
            var y = new float[host.OutputLength];
            var dx = new float[host.InputLength];
            host.Forward(x, y, training);
            host.Backward(x, y, dy, dx);

            using var xBuffer = Gpu.Accelerator.Allocate1D(x);
            using var dyBuffer = Gpu.Accelerator.Allocate1D(dy);
            using var yBuffer = Gpu.Allocate<float>(y.Length);
            using var dxBuffer = Gpu.Allocate<float>(dx.Length);
            using var scratch = Gpu.Allocate<float>(Math.Max(1, device.ScratchLength));
            device.Forward(xBuffer.View, yBuffer.View, training, scratch.View);
            var deviceY = yBuffer.GetAsArray1D();
            if (exactForward)
                Assert.Equal(y, deviceY);
            else
                DeviceTestData.Close(y, deviceY, Tolerance, $"{host.Name} y");
            if (!training)
                return;
            device.Backward(xBuffer.View, yBuffer.View, dyBuffer.View, dxBuffer.View, needDx: true, scratch.View);
            DeviceTestData.Close(dx, dxBuffer.GetAsArray1D(), Tolerance, $"{host.Name} dx");
            foreach (var (hostParameter, deviceParameter) in host.Parameters.Zip(device.Parameters))
            {
                if (hostParameter.Role == ParameterRole.State)
                    DeviceTestData.Close(hostParameter.Value, Read(deviceParameter.Value), Tolerance, hostParameter.Name);
                else
                    DeviceTestData.Close(hostParameter.Gradient, Read(deviceParameter.Gradient), Tolerance, $"d{hostParameter.Name}");
            }
        }
    }

    private static float[] Read(ArrayView<float> view)
    {
        var values = new float[view.Length];
        view.CopyToCPU(values.AsSpan());
        return values;
    }
}
