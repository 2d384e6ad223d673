// The fully connected layers of a device network: float (SGEMM, optional bias) and binary (packed signs, XNOR GEMM
// forward; straight-through backward through SGEMM).
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Training;
using ILGPU;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The host <c>DenseLayer</c> (32-bit): <c>y = x · Wᵀ + bias</c>; backward <c>dW = dYᵀ · x</c>, <c>dbias = Σ dY</c>
/// (the host's column-sum order), <c>dx = dY · W</c>.
/// </summary>
internal sealed class DeviceDenseLayer : DeviceLayer
{
    private readonly int batch, inputs, outputs;
    private readonly DeviceParameter weight;
    private readonly DeviceParameter? bias;
    private readonly ArrayView<float> biasScratch;

    public DeviceDenseLayer(GpuDevice device, string name, int batch, int inputs, int outputs, bool bias)
        : base(device, name, batch * inputs, batch * outputs)
    {
        this.batch = batch;
        this.inputs = inputs;
        this.outputs = outputs;
        weight = NewParameter("weight", outputs * inputs, ParameterRole.Weight);
        if (bias)
        {
            this.bias = NewParameter("bias", outputs, ParameterRole.Bias);
            biasScratch = Allocate<float>(GpuBias.ScratchLength(batch, outputs));
        }
    }

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
    {
        if (bias is not null)
            GpuBias.Broadcast(Device, bias.Value, batch, outputs, y);
        // y (batch × outputs) (+)= x (batch × inputs) · Wᵀ
        GpuSgemm.Multiply(Device, false, true, batch, outputs, inputs, 1f, x, inputs, weight.Value, inputs, bias is null ? 0f : 1f, y, outputs);
    }

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        if (bias is not null)
            GpuBias.ColumnSums(Device, dy, batch, outputs, biasScratch, bias.Gradient);
        // dW (outputs × inputs) = dYᵀ (outputs × batch) · x (batch × inputs)
        GpuSgemm.Multiply(Device, true, false, outputs, inputs, batch, 1f, dy, outputs, x, inputs, 0f, weight.Gradient, inputs);
        if (needDx)
            GpuSgemm.Multiply(Device, false, false, batch, inputs, outputs, 1f, dy, outputs, weight.Value, inputs, 0f, dx, inputs);
    }
}

/// <summary>
/// The host <c>BinaryDenseLayer</c>: forward packs sign(x) and sign(W) and runs the XNOR GEMM, int32 dots written as
/// floats. Backward, straight-through with clip 1: <c>dW = (dYᵀ · sign x) ⊙ [|W| &lt;= 1]</c>,
/// <c>dx = (dY · sign W) ⊙ [|x| &lt;= 1]</c>.
/// </summary>
internal sealed class DeviceBinaryDenseLayer : DeviceLayer
{
    private readonly int batch, inputs, outputs;
    private readonly DeviceParameter weight;
    private readonly ArrayView<ulong> packedInput, packedWeights;
    private readonly ArrayView<int> dots;
    private readonly ArrayView<float> signInput, signWeights;

    public DeviceBinaryDenseLayer(GpuDevice device, string name, int batch, int inputs, int outputs)
        : base(device, name, batch * inputs, batch * outputs)
    {
        this.batch = batch;
        this.inputs = inputs;
        this.outputs = outputs;
        weight = NewParameter("weight", outputs * inputs, ParameterRole.LatentWeight);
        int words = (inputs + 63) / 64;
        packedInput = Allocate<ulong>((long)batch * words);
        packedWeights = Allocate<ulong>((long)outputs * words);
        dots = Allocate<int>(OutputLength);
        signInput = Allocate<float>(InputLength);
        signWeights = Allocate<float>(weight.Length);
    }

    public override void Forward(ArrayView<float> x, ArrayView<float> y, bool training, ArrayView<float> scratch)
    {
        GpuSignPacking.Pack(Device, weight.Value, outputs, inputs, packedWeights);
        GpuSignPacking.Pack(Device, x, batch, inputs, packedInput);
        if (LargeTile(batch, outputs))
            GpuXnorGemm.Multiply<Tile64x64>(Device, packedInput, batch, packedWeights, outputs, inputs, dots);
        else
            GpuXnorGemm.Multiply<Tile32x32>(Device, packedInput, batch, packedWeights, outputs, inputs, dots);
        GpuTensorOps.ToFloat(Device, dots, y, OutputLength);
    }

    public override void Backward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, bool needDx, ArrayView<float> scratch)
    {
        GpuElementwise.Sign(Device, x, signInput, InputLength);
        // dW (outputs × inputs) = dYᵀ (outputs × batch) · sign(x) (batch × inputs), gated by |W| <= 1
        GpuSgemm.Multiply(Device, true, false, outputs, inputs, batch, 1f, dy, outputs, signInput, inputs, 0f, weight.Gradient, inputs);
        GpuElementwise.SignBackward(Device, weight.Value, weight.Gradient, weight.Gradient, weight.Length);
        if (!needDx)
            return;
        // dx (batch × inputs) = dY (batch × outputs) · sign(W) (outputs × inputs), gated by |x| <= 1
        GpuElementwise.Sign(Device, weight.Value, signWeights, weight.Length);
        GpuSgemm.Multiply(Device, false, false, batch, inputs, outputs, 1f, dy, outputs, signWeights, inputs, 0f, dx, inputs);
        GpuElementwise.SignBackward(Device, x, dx, dx, InputLength);
    }
}
