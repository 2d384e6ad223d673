// Batch normalization in a device network: batch statistics and the running update in training, running statistics in evaluation.
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Training;
using ILGPU;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The host <c>BatchNormLayer</c> over <c>batch · positions</c> rows of <c>channels</c> (see <see cref="GpuBatchNorm"/>
/// for the formulas and the summation order they share): parameters <c>gamma</c>, <c>beta</c> and the state
/// <c>running_mean</c>, <c>running_var</c>; the batch mean and inverse standard deviation of the last training forward
/// are kept for backward.
/// </summary>
internal sealed class DeviceBatchNormLayer : DeviceLayer
{
    private readonly int rows, channels;
    private readonly float momentum, epsilon;
    private readonly DeviceParameter gamma, beta, runningMean, runningVar;
    private readonly ArrayView<float> mean, inverseStd, scratch;

    public DeviceBatchNormLayer(GpuDevice device, string name, int batch, int positions, int channels, float momentum, float epsilon)
        : base(device, name, batch * positions * channels, batch * positions * channels)
    {
        rows = batch * positions;
        this.channels = channels;
        this.momentum = momentum;
        this.epsilon = epsilon;
        gamma = NewParameter("gamma", channels, ParameterRole.Scale);
        beta = NewParameter("beta", channels, ParameterRole.Bias);
        runningMean = NewParameter("running_mean", channels, ParameterRole.State);
        runningVar = NewParameter("running_var", channels, ParameterRole.State);
        mean = Allocate<float>(channels);
        inverseStd = Allocate<float>(channels);
        scratch = Allocate<float>(GpuBatchNorm.ScratchLength(rows, channels));
    }

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> shared)
    {
        if (training)
            GpuBatchNorm.ForwardTraining(Device, x, rows, channels, gamma.Value, beta.Value, runningMean.Value, runningVar.Value,
                momentum, epsilon, mean, inverseStd, scratch, y);
        else
            GpuBatchNorm.ForwardInference(Device, x, rows, channels, gamma.Value, beta.Value, runningMean.Value, runningVar.Value,
                epsilon, scratch, y);
    }

    /// <summary>Always writes dx (the kernel computes it with the parameter gradients).</summary>
    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> shared)
        => GpuBatchNorm.Backward(Device, x, dy, rows, channels, gamma.Value, mean, inverseStd, gamma.Gradient, beta.Gradient, scratch, dx);
}
