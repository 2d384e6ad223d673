// The interpreter on a device: executes a packed model's plan step by step with DeviceOps.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The interpreter on a device (<see cref="ComputeDeviceKind.Cuda"/> or <see cref="ComputeDeviceKind.IlgpuCpu"/>): a
/// <see cref="DeviceRunner"/> that runs <see cref="PackedModel.Steps"/> in order, one <see cref="DeviceOps"/> call per
/// step with the shapes read from the plan. Binary steps compute the CPU interpreter's bits exactly; float steps agree
/// with it to rounding. The generated <c>Device</c> class of a network runs the same calls with literal shapes.
/// </summary>
public sealed class DeviceSession : DeviceRunner
{
    private readonly PlanStep[] steps;

    /// <summary>
    /// Uploads <paramref name="model"/>'s weights to <paramref name="device"/> and allocates the buffers of
    /// <paramref name="batchSize"/> samples; with <paramref name="keepStepOutputs"/> every step keeps its output (for
    /// <see cref="DeviceRunner.StepBits"/> and <see cref="DeviceRunner.StepFloats"/>, at the cost of device memory).
    /// </summary>
    /// <exception cref="ArgumentException">The device is the host CPU (use the model's <see cref="InferenceSession"/>, or <see cref="Predictors.Open"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public DeviceSession(PackedModel model, ComputeDevice device, int batchSize, bool keepStepOutputs = false)
        : base(model, device, batchSize, keepStepOutputs)
    {
        steps = [.. model.Steps];
    }

    /// <inheritdoc/>
    protected override void RunSteps(int count)
    {
        for (int i = 0; i < steps.Length; i++)
            RunStep(i, count);
    }

    /// <summary>Step <paramref name="i"/> on the <paramref name="count"/> samples of the chunk, as InferenceSession runs it on the CPU.</summary>
    private void RunStep(int i, int count)
    {
        var step = steps[i];
        var w = Weights(i);
        var inShape = step.Input;
        int inElements = (int)inShape.Elements;
        int outElements = (int)step.Output.Elements;
        var outFloats = step.OutputFloats ? Floats(i, count) : default;
        var outBits = step.HasBits ? Bits(i, count) : default;
        var inFloats = step.InputBits ? default : Floats(step.Source, count);
        var inBits = step.InputBits ? Bits(step.Source, count) : default;
        switch (step.Op)
        {
            case PlanOp.Sign:
                DeviceOps.Sign(Gpu, inFloats, step.Output.Rank == 3 ? count * inShape.Height * inShape.Width : count, step.Output.Channels, outBits);
                break;
            case PlanOp.Unpack:
                DeviceOps.Unpack(Gpu, inBits, PlanShapes.Rows(step.Output, count), step.Output.Channels, outFloats);
                break;
            case PlanOp.Repack:
                DeviceOps.Repack(Gpu, inBits, count, inShape.Height * inShape.Width, inShape.Channels, outBits);
                break;
            case PlanOp.FloatConv:
            {
                var image = Model.Data[i].Conv!.Image;
                int pooled = count * GpuFloatConv2d.PooledHeight(image, step.PoolKernel, step.PoolStride)
                    * GpuFloatConv2d.PooledWidth(image, step.PoolKernel, step.PoolStride) * image.Filters;
                DeviceOps.FloatConv(Gpu, inFloats, count, image, w.Weight, w.Bias, w.Scale, w.Shift, step.PoolKernel, step.PoolStride,
                    step.OutputBits ? FloatScratch.SubView(0, pooled) : outFloats, outBits);
                break;
            }
            case PlanOp.FloatDense:
                DeviceOps.FloatDense(Gpu, inFloats, count, inElements, step.Spec!.Units, w.Weight, w.Bias, outFloats);
                break;
            case PlanOp.BitsDense:
                DeviceOps.BitsDense(Gpu, inBits, count, inElements, step.Spec!.Units, w.Weight, w.Bias, FloatScratch, outFloats);
                break;
            case PlanOp.Affine:
                DeviceOps.Affine(Gpu, inFloats, count * inElements / (int)w.Scale.Length, (int)w.Scale.Length, w.Scale, w.Shift, outFloats);
                break;
            case PlanOp.MaxPool:
                DeviceOps.MaxPool(Gpu, PlanShapes.Pool(step, count), inFloats, outFloats, ArgmaxScratch);
                break;
            case PlanOp.AvgPool:
                DeviceOps.AvgPool(Gpu, PlanShapes.Pool(step, count), inFloats, outFloats);
                break;
            case PlanOp.GlobalAvgPool:
                DeviceOps.GlobalAvgPool(Gpu, count, inShape.Height, inShape.Width, inShape.Channels, inFloats, outFloats);
                break;
            case PlanOp.ReLU:
                DeviceOps.ReLU(Gpu, inFloats, count * inElements, outFloats);
                break;
            case PlanOp.PackedMaxPool:
                DeviceOps.PackedMaxPool(Gpu, inBits, PlanShapes.Pool(step, count), outBits);
                break;
            case PlanOp.XnorConv:
            {
                var shape = PlanShapes.Conv(step, count);
                var padding = step.Spec!.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One;
                if (step.OutputBits)
                    DeviceOps.XnorConv(Gpu, inBits, shape, padding, w.Packed, w.Threshold, outBits);
                else
                    DeviceOps.XnorConv(Gpu, inBits, shape, padding, w.Packed, w.Scale, w.Shift, outFloats);
                break;
            }
            case PlanOp.XnorDense:
                if (step.OutputBits)
                    DeviceOps.XnorDense(Gpu, inBits, count, inElements, step.Spec!.Units, w.Packed, w.Threshold, outBits);
                else
                    DeviceOps.XnorDense(Gpu, inBits, count, inElements, step.Spec!.Units, w.Packed, w.Scale, w.Shift, outFloats);
                break;
            case PlanOp.Add:
                DeviceOps.Add(Gpu, inFloats, Floats(step.Shortcut, count), outFloats, count * outElements, step.Output.Channels, outBits);
                break;
            case PlanOp.Quantize:
                DeviceOps.Quantize(Gpu, inFloats, count * inElements, step.Bits, outFloats);
                break;
            case PlanOp.BitSerialConv:
            {
                var bitSerial = Model.Data[i].BitSerial!;
                DeviceOps.BitSerialConv(Gpu, inFloats, count, bitSerial.Image, bitSerial.ActivationBits, w.Packed, bitSerial.Weights.Bits,
                    PlaneScratch, w.Scale, w.Shift, outFloats);
                break;
            }
            case PlanOp.BitSerialDense:
            {
                var bitSerial = Model.Data[i].BitSerial!;
                DeviceOps.BitSerialDense(Gpu, inFloats, count, bitSerial.Weights.K, bitSerial.Weights.N, bitSerial.ActivationBits, w.Packed,
                    bitSerial.Weights.Bits, PlaneScratch, w.Scale, w.Shift, outFloats);
                break;
            }
        }
    }
}
