// The convolution layers of a device network: float (im2col + SGEMM, optional bias) and binary (packed signs, XNOR +
// popcount forward; straight-through backward through SGEMM).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Training;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The host <c>Conv2dLayer</c> (32-bit weights and activations, zero padding): <c>y = im2col(x) · Wᵀ + bias</c>;
/// backward <c>dW = dYᵀ · im2col(x)</c>, <c>dbias = Σ dY</c>, <c>dx = col2im(dY · W)</c>. The im2col matrix lives in the
/// network's shared scratch and is rebuilt in backward.
/// </summary>
internal sealed class DeviceConv2dLayer : DeviceLayer
{
    private readonly Conv2dShape shape;
    private readonly DeviceParameter weight;
    private readonly DeviceParameter? bias;
    private readonly ArrayView<float> biasScratch;

    public DeviceConv2dLayer(GpuDevice device, string name, Conv2dShape shape, bool bias)
        : base(device, name, shape.Batch * shape.Height * shape.Width * shape.Channels, shape.OutputPositions * shape.Filters)
    {
        this.shape = shape;
        weight = NewParameter("weight", shape.Filters * Patch, ParameterRole.Weight);
        if (bias)
        {
            this.bias = NewParameter("bias", shape.Filters, ParameterRole.Bias);
            biasScratch = Allocate<float>(GpuBias.ScratchLength(shape.OutputPositions, shape.Filters));
        }
    }

    public override long ScratchLength => GpuIm2Col.ColumnsLength(shape);

    private int Patch => shape.KernelH * shape.KernelW * shape.Channels;

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
    {
        int rows = shape.OutputPositions, filters = shape.Filters, k = Patch;
        GpuIm2Col.Im2Col(Device, x, shape, scratch);
        if (bias is not null)
            GpuBias.Broadcast(Device, bias.Value, rows, filters, y);
        // y (rows × filters) (+)= cols (rows × k) · Wᵀ
        GpuSgemm.Multiply(Device, false, true, rows, filters, k, 1f, scratch, k, weight.Value, k, bias is null ? 0f : 1f, y, filters);
    }

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        int rows = shape.OutputPositions, filters = shape.Filters, k = Patch;
        GpuIm2Col.Im2Col(Device, x, shape, scratch);
        // dW (filters × k) = dYᵀ (filters × rows) · cols (rows × k)
        GpuSgemm.Multiply(Device, true, false, filters, k, rows, 1f, dy, filters, scratch, k, 0f, weight.Gradient, k);
        if (bias is not null)
            GpuBias.ColumnSums(Device, dy, rows, filters, biasScratch, bias.Gradient);
        if (!needDx)
            return;
        // dcols (rows × k) = dY (rows × filters) · W (filters × k), then dx = col2im(dcols)
        GpuSgemm.Multiply(Device, false, false, rows, k, filters, 1f, dy, filters, weight.Value, k, 0f, scratch, k);
        GpuIm2Col.Col2Im(Device, scratch, shape, dx);
    }
}

/// <summary>
/// The host <c>BinaryConv2dLayer</c>: forward packs sign(x) and sign(W) (the latent weights, every step) and runs the
/// XNOR + popcount convolution with its padding, int32 dots written as floats. Backward, straight-through with clip
/// 1: <c>dW = (dYᵀ · im2col(sign x)) ⊙ [|W| &lt;= 1]</c> (pads +1 or 0 as forward), <c>dx = col2im(dY · sign W) ⊙ [|x| &lt;= 1]</c>.
/// </summary>
internal sealed class DeviceBinaryConv2dLayer : DeviceLayer
{
    private readonly Conv2dShape shape;
    private readonly BinaryPadding padding;
    private readonly DeviceParameter weight;
    private readonly ArrayView<ulong> packedInput, packedWeights;
    private readonly ArrayView<int> dots;
    private readonly ArrayView<float> signWeights;

    public DeviceBinaryConv2dLayer(GpuDevice device, string name, Conv2dShape shape, BinaryPadding padding)
        : base(device, name, shape.Batch * shape.Height * shape.Width * shape.Channels, shape.OutputPositions * shape.Filters)
    {
        this.shape = shape;
        this.padding = padding;
        weight = NewParameter("weight", shape.Filters * Patch, ParameterRole.LatentWeight);
        packedInput = Allocate<ulong>(GpuBinaryConv2d.InputLength(shape));
        packedWeights = Allocate<ulong>(GpuBinaryConv2d.WeightsLength(shape));
        dots = Allocate<int>(OutputLength);
        signWeights = Allocate<float>(weight.Length);
    }

    public override long ScratchLength => GpuIm2Col.ColumnsLength(shape);

    private int Patch => shape.KernelH * shape.KernelW * shape.Channels;

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
    {
        GpuSignPacking.Pack(Device, weight.Value, shape.Filters * shape.KernelH * shape.KernelW, shape.Channels, packedWeights);
        GpuSignPacking.Pack(Device, x, shape.Batch * shape.Height * shape.Width, shape.Channels, packedInput);
        if (LargeTile(shape.OutputPositions, shape.Filters))
            GpuBinaryConv2d.Forward<Tile64x64>(Device, packedInput, packedWeights, shape, padding, dots);
        else
            GpuBinaryConv2d.Forward<Tile32x32>(Device, packedInput, packedWeights, shape, padding, dots);
        GpuTensorOps.ToFloat(Device, dots, y, OutputLength);
    }

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        int rows = shape.OutputPositions, filters = shape.Filters, k = Patch;
        GpuIm2Col.Im2Col(Device, x, shape, scratch, sign: true, padValue: padding == BinaryPadding.One ? 1f : 0f);
        // dW (filters × k) = dYᵀ (filters × rows) · im2col(sign x) (rows × k), gated by |W| <= 1
        GpuSgemm.Multiply(Device, true, false, filters, k, rows, 1f, dy, filters, scratch, k, 0f, weight.Gradient, k);
        GpuElementwise.SignBackward(Device, weight.Value, weight.Gradient, weight.Gradient, weight.Length);
        if (!needDx)
            return;
        // dcols (rows × k) = dY (rows × filters) · sign(W) (filters × k), dx = col2im(dcols) gated by |x| <= 1
        GpuElementwise.Sign(Device, weight.Value, signWeights, weight.Length);
        GpuSgemm.Multiply(Device, false, false, rows, k, filters, 1f, dy, filters, signWeights, k, 0f, scratch, k);
        GpuIm2Col.Col2Im(Device, scratch, shape, dx);
        GpuElementwise.SignBackward(Device, x, dx, dx, InputLength);
    }
}
