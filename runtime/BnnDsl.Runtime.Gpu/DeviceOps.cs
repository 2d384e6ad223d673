// The operations of a packed model's plan on an ILGPU device, one public method per PlanOp, every shape explicit and
// every buffer a device view: the device session calls them step by step, and generated code can call them with literal shapes.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using ILGPU;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// Executes one plan step (<see cref="BnnDsl.Deployment.PlanOp"/>) on <c>count</c> samples held on the device, with
/// the semantics of the CPU <see cref="Deployment.PackedOps"/>: inputs and outputs are whole-batch NHWC views, floats
/// or packed signs (bit 0 = +1, per position, ceil(C / 64) words, tail bits zero). Weights are device views in the
/// layouts the packed model stores (<c>.packed_weight</c> rows, OHWI float weights), uploaded once by the caller. Binary
/// and integer results equal the CPU's bit for bit; float results agree to rounding (sums may run in another order).
/// Every launch is asynchronous on the device's default stream; nothing is copied to the host. Scratch comes from the
/// caller, so no call allocates device memory.
/// </summary>
public static class DeviceOps
{
    /// <summary>Rows (of m) below which the GEMM-shaped kernels take the 32 × 32 tile: more groups for small layers.</summary>
    public const int SmallTileRows = 4096;

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.Sign"/>: sign-packs <paramref name="rows"/> rows of <paramref name="channels"/> floats.</summary>
    public static void Sign(GpuDevice device, ArrayView<float> input, int rows, int channels, ArrayView<ulong> output) =>
        GpuSignPacking.Pack(device, input, rows, channels, output);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.Unpack"/>: <paramref name="rows"/> packed rows of <paramref name="channels"/> signs to ±1 floats.</summary>
    public static void Unpack(GpuDevice device, ArrayView<ulong> input, int rows, int channels, ArrayView<float> output) =>
        GpuSignUnpacking.Unpack(device, input, rows, channels, output);

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.Repack"/>: bits packed per position ([positions][words(C)]) to one flat
    /// packed vector of positions × C signs per sample.
    /// </summary>
    public static void Repack(GpuDevice device, ArrayView<ulong> input, int count, int positions, int channels, ArrayView<ulong> output) =>
        GpuRepack.Repack(device, input, count, positions, channels, output);

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.FloatConv"/>: the convolution of <paramref name="image"/>'s geometry (its
    /// batch is ignored) on <paramref name="count"/> images with OHWI <paramref name="weight"/>, then <c>(v + bias) ·
    /// scale + shift</c> (pass zeros, ones and zeros for none), an optional max pool (<paramref name="poolKernel"/> 0:
    /// none) and, when <paramref name="outputBits"/> is not empty, sign-packing: <paramref name="outputFloats"/> then
    /// holds the values before packing (count × pooled positions × filters floats of scratch).
    /// </summary>
    public static void FloatConv(GpuDevice device, ArrayView<float> input, int count, Conv2dShape image, ArrayView<float> weight,
        ArrayView<float> bias, ArrayView<float> scale, ArrayView<float> shift, int poolKernel, int poolStride,
        ArrayView<float> outputFloats, ArrayView<ulong> outputBits)
    {
        var shape = image with { Batch = count };
        GpuFloatConv2d.Forward(device, input, shape, weight, bias, scale, shift, poolKernel, poolStride, outputFloats);
        if (outputBits.Length > 0)
            GpuSignPacking.Pack(device, outputFloats, count * GpuFloatConv2d.PooledHeight(shape, poolKernel, poolStride)
                * GpuFloatConv2d.PooledWidth(shape, poolKernel, poolStride), image.Filters, outputBits);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.FloatDense"/>: <c>y = x · Wᵀ (+ bias)</c> for <paramref name="count"/>
    /// samples, W [units, inputs] row-major; <paramref name="bias"/> empty for none.
    /// </summary>
    public static void FloatDense(GpuDevice device, ArrayView<float> input, int count, int inputs, int units, ArrayView<float> weight,
        ArrayView<float> bias, ArrayView<float> output)
    {
        // cuBLAS where it runs; else our tiled kernel, with the small tile for a small batch (more groups, fewer idle threads)
        if (device.IsCuBlasAvailable || count >= SmallTileRows)
            GpuSgemm.Multiply(device, false, true, count, units, inputs, 1f, input, inputs, weight, inputs, 0f, output, units);
        else
            GpuSgemm.MultiplyTiled<Tile32x32>(device, false, true, count, units, inputs, 1f, input, inputs, weight, inputs, 0f, output, units);
        if (bias.Length > 0)
            GpuAffine.AddBias(device, output, count, units, bias);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.BitsDense"/>: a float dense layer on packed ±1 inputs (flat vectors of
    /// <paramref name="inputs"/> signs), unpacked into <paramref name="scratch"/> (count × inputs floats) first.
    /// </summary>
    public static void BitsDense(GpuDevice device, ArrayView<ulong> input, int count, int inputs, int units, ArrayView<float> weight,
        ArrayView<float> bias, ArrayView<float> scratch, ArrayView<float> output)
    {
        GpuSignUnpacking.Unpack(device, input, count, inputs, scratch);
        FloatDense(device, scratch, count, inputs, units, weight, bias, output);
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.Affine"/>: <c>y = x · scale[c] + shift[c]</c> over <paramref name="rows"/> rows of <paramref name="channels"/>; may run in place.</summary>
    public static void Affine(GpuDevice device, ArrayView<float> input, int rows, int channels, ArrayView<float> scale, ArrayView<float> shift,
        ArrayView<float> output) =>
        GpuAffine.Forward(device, input, rows, channels, scale, shift, output);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.MaxPool"/>: float max pooling; <paramref name="argmax"/> is scratch of the output's length.</summary>
    public static void MaxPool(GpuDevice device, Pool2dShape shape, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax) =>
        GpuMaxPool.Forward(device, input, shape, output, argmax);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.AvgPool"/>: float average pooling.</summary>
    public static void AvgPool(GpuDevice device, Pool2dShape shape, ArrayView<float> input, ArrayView<float> output) =>
        GpuAvgPool.Forward(device, input, shape, output);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.GlobalAvgPool"/>: the mean of each channel over height × width, summed in double.</summary>
    public static void GlobalAvgPool(GpuDevice device, int count, int height, int width, int channels, ArrayView<float> input, ArrayView<float> output) =>
        GpuAvgPool.GlobalForward(device, input, count, height * width, channels, output);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.ReLU"/>: <c>max(x, 0)</c> over <paramref name="length"/> floats.</summary>
    public static void ReLU(GpuDevice device, ArrayView<float> input, int length, ArrayView<float> output) =>
        GpuElementwise.Relu(device, input, output, length);

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.PackedMaxPool"/>: max pooling of packed ±1 values (the AND of each window's words).</summary>
    public static void PackedMaxPool(GpuDevice device, ArrayView<ulong> input, Pool2dShape shape, ArrayView<ulong> output) =>
        GpuPackedMaxPool.Forward(device, input, shape, output);

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.XnorConv"/> writing bits: packed sign of <c>dot &gt;= threshold[filter]</c>
    /// (a folded BatchNorm + sign), with the packed OHWI <paramref name="weights"/> of <paramref name="shape"/> (batch = count).
    /// </summary>
    public static void XnorConv(GpuDevice device, ArrayView<ulong> input, Conv2dShape shape, BinaryPadding padding, ArrayView<ulong> weights,
        ArrayView<int> threshold, ArrayView<ulong> output)
    {
        if (shape.OutputPositions < SmallTileRows)
            GpuBinaryConv2d.ForwardThreshold<Tile32x32>(device, input, weights, shape, padding, threshold, output);
        else
            GpuBinaryConv2d.ForwardThreshold<Tile64x64>(device, input, weights, shape, padding, threshold, output);
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.XnorConv"/> writing floats: <c>scale[filter] · dot + bias[filter]</c> (a folded BatchNorm, or ones and zeros).</summary>
    public static void XnorConv(GpuDevice device, ArrayView<ulong> input, Conv2dShape shape, BinaryPadding padding, ArrayView<ulong> weights,
        ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> output)
    {
        if (shape.OutputPositions < SmallTileRows)
            GpuBinaryConv2d.ForwardScaleBias<Tile32x32>(device, input, weights, shape, padding, scale, bias, output);
        else
            GpuBinaryConv2d.ForwardScaleBias<Tile64x64>(device, input, weights, shape, padding, scale, bias, output);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.XnorDense"/> writing bits through one threshold per unit; input: count flat
    /// packed vectors of <paramref name="inputs"/> signs, <paramref name="weights"/>: units rows of ceil(inputs / 64) words.
    /// </summary>
    public static void XnorDense(GpuDevice device, ArrayView<ulong> input, int count, int inputs, int units, ArrayView<ulong> weights,
        ArrayView<int> threshold, ArrayView<ulong> output)
    {
        if (count < SmallTileRows)
            GpuXnorGemm.MultiplyThreshold<Tile32x32>(device, input, count, weights, units, inputs, threshold, output);
        else
            GpuXnorGemm.MultiplyThreshold<Tile64x64>(device, input, count, weights, units, inputs, threshold, output);
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.XnorDense"/> writing <c>scale[unit] · dot + bias[unit]</c> floats.</summary>
    public static void XnorDense(GpuDevice device, ArrayView<ulong> input, int count, int inputs, int units, ArrayView<ulong> weights,
        ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> output)
    {
        if (count < SmallTileRows)
            GpuXnorGemm.MultiplyScaleBias<Tile32x32>(device, input, count, weights, units, inputs, scale, bias, output);
        else
            GpuXnorGemm.MultiplyScaleBias<Tile64x64>(device, input, count, weights, units, inputs, scale, bias, output);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.Add"/>: <c>output = main + shortcut</c> over <paramref name="length"/> floats
    /// and, when <paramref name="signs"/> is not empty, the sum's packed signs: rows of <paramref name="channels"/> values.
    /// </summary>
    public static void Add(GpuDevice device, ArrayView<float> main, ArrayView<float> shortcut, ArrayView<float> output, int length, int channels,
        ArrayView<ulong> signs)
    {
        if (channels <= 0 || length % channels != 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"channels must divide the output length ({length}); pass the channels of one position.");
        GpuTensorOps.Add(device, main, shortcut, output, length);
        if (signs.Length > 0)
            GpuSignPacking.Pack(device, output, length / channels, channels, signs);
    }

    /// <summary><see cref="BnnDsl.Deployment.PlanOp.Quantize"/>: <c>round(clip(x, 0, 1) · (2^bits − 1)) / (2^bits − 1)</c> (halves to even); bits 2..8.</summary>
    public static void Quantize(GpuDevice device, ArrayView<float> input, int length, int bits, ArrayView<float> output) =>
        GpuQuantize.Forward(device, input, output, length, bits);

    /// <summary>Words of bit-plane scratch <see cref="BitSerialConv"/> needs for <paramref name="count"/> images of <paramref name="image"/>'s geometry.</summary>
    public static long BitSerialConvPlanesLength(Conv2dShape image, int count, int activationBits) =>
        (long)count * image.OutputHeight * image.OutputWidth * activationBits * BitPlanes.WordsFor(image.KernelH * image.KernelW * image.Channels);

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.BitSerialConv"/>: every output position's patch of <paramref name="count"/>
    /// images quantized to <paramref name="activationBits"/> planes (zero padding, code 0) in <paramref name="planes"/>
    /// (<see cref="BitSerialConvPlanesLength"/> words), the bit-serial GEMM against the <paramref name="weightBits"/>-bit
    /// <paramref name="weights"/> (filters rows of planes, the model's <c>.packed_weight</c>) writing
    /// <c>dot / ((2^ka − 1)(2^kw − 1))</c>, then the BatchNorm <paramref name="scale"/> and <paramref name="shift"/>
    /// (empty for none).
    /// </summary>
    public static void BitSerialConv(GpuDevice device, ArrayView<float> input, int count, Conv2dShape image, int activationBits,
        ArrayView<ulong> weights, int weightBits, ArrayView<ulong> planes, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> output)
    {
        var shape = image with { Batch = count };
        GpuBitPlanes.PackPatches(device, input, shape, activationBits, planes);
        int k = image.KernelH * image.KernelW * image.Channels;
        BitSerialTail(device, planes, shape.OutputPositions, activationBits, weights, image.Filters, weightBits, k, scale, shift, output);
    }

    /// <summary>
    /// <see cref="BnnDsl.Deployment.PlanOp.BitSerialDense"/>: the <paramref name="count"/> input vectors quantized into
    /// planes (scratch: count × activationBits × ceil(inputs / 64) words), the bit-serial GEMM, then the BatchNorm if any.
    /// </summary>
    public static void BitSerialDense(GpuDevice device, ArrayView<float> input, int count, int inputs, int units, int activationBits,
        ArrayView<ulong> weights, int weightBits, ArrayView<ulong> planes, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> output)
    {
        GpuBitPlanes.PackRows(device, input, count, inputs, activationBits, planes);
        BitSerialTail(device, planes, count, activationBits, weights, units, weightBits, inputs, scale, shift, output);
    }

    private static void BitSerialTail(GpuDevice device, ArrayView<ulong> planes, int rows, int activationBits, ArrayView<ulong> weights, int units,
        int weightBits, int k, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> output)
    {
        float dotScale = 1f / (((1 << activationBits) - 1) * ((1 << weightBits) - 1));
        GpuBitSerialScaledGemm.Multiply(device, planes, rows, activationBits, weights, units, weightBits, k, dotScale, output);
        if (scale.Length > 0)
            GpuAffine.Forward(device, output, rows, units, scale, shift, output);
    }
}
