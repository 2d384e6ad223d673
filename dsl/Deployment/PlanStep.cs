// One fused operation of a packed model's execution plan, and the kinds of operation the interpreter runs.
using System.Globalization;
using System.Text;

namespace BnnDsl.Deployment;

/// <summary>What a <see cref="PlanStep"/> computes; "bits" are packed signs (bit 0 = +1), "floats" are F32 NHWC values.</summary>
public enum PlanOp
{
    /// <summary>floats → bits: sign-packs along channels (a vector's features count as channels).</summary>
    Sign,

    /// <summary>bits → floats: each bit becomes +1 or -1.</summary>
    Unpack,

    /// <summary>bits [positions][words(C)] → bits [words(positions × C)]: the packed form of Flatten when C is not a multiple of 64.</summary>
    Repack,

    /// <summary>floats → floats or bits: float convolution (+ bias), then optionally BatchNorm as scale + shift, max pooling, and sign-packing, fused per image.</summary>
    FloatConv,

    /// <summary>floats → floats: float fully connected layer (+ bias).</summary>
    FloatDense,

    /// <summary>bits → floats: float fully connected layer on ±1 inputs (+ bias).</summary>
    BitsDense,

    /// <summary>floats → floats: a BatchNorm that folds into nothing, as per-channel scale + shift.</summary>
    Affine,

    /// <summary>floats → floats: max pooling.</summary>
    MaxPool,

    /// <summary>floats → floats: average pooling.</summary>
    AvgPool,

    /// <summary>floats → floats: global average pooling.</summary>
    GlobalAvgPool,

    /// <summary>floats → floats: max(x, 0).</summary>
    ReLU,

    /// <summary>bits → bits: max pooling of ±1 values, the AND of the words of each window.</summary>
    PackedMaxPool,

    /// <summary>bits → bits (folded BatchNorm + sign: integer threshold) or floats (the integer dot products, or a folded BatchNorm as scale + bias): XNOR convolution.</summary>
    XnorConv,

    /// <summary>bits → bits (folded threshold) or floats (the dot products, or a folded BatchNorm as scale + bias): XNOR fully connected layer.</summary>
    XnorDense,

    /// <summary>floats + floats → floats (and, with <see cref="PlanStep.PackSign"/>, their packed signs too): the add that closes a residual block.</summary>
    Add,

    /// <summary>floats → floats: k-bit activation quantize-dequantize, <c>round(clip(x, 0, 1) * (2^k - 1)) / (2^k - 1)</c>.</summary>
    Quantize,

    /// <summary>floats → floats: k-bit convolution (activations quantized and packed as bit planes, bit-serial popcount GEMM), then optionally BatchNorm.</summary>
    BitSerialConv,

    /// <summary>floats → floats: k-bit fully connected layer (bit-serial), then optionally BatchNorm.</summary>
    BitSerialDense,
}

/// <summary>
/// One step of a packed model's plan. <see cref="Layer"/> names the layer whose parameters the step uses (or the
/// layer it runs), <see cref="Last"/> the last network layer it covers (the one whose output it produces).
/// <see cref="Norm"/> is the BatchNorm fused into the step (scale + shift for <see cref="PlanOp.FloatConv"/>, the
/// folded threshold for the XNOR ops); <see cref="PoolKernel"/> and <see cref="PoolStride"/> describe a fused max
/// pool (FloatConv only); <see cref="OutputBits"/> says whether the step writes packed bits.
/// <see cref="Index"/> is the step's position in the plan and <see cref="Source"/> the step whose output it reads
/// (-1: the network input); the plan text names the source only when it is not the previous step. An
/// <see cref="PlanOp.Add"/> also reads <see cref="Shortcut"/>. A step's output lives as long as the run, so a
/// residual block's input stays readable for its shortcut.
/// </summary>
public sealed record PlanStep(PlanOp Op, string Layer, string Last, TensorShape Input, TensorShape Output, bool OutputBits)
{
    /// <summary>The step's position in the plan.</summary>
    public int Index { get; init; }

    /// <summary>The step whose output this step reads (-1: the network input).</summary>
    public int Source { get; init; }

    /// <summary>The second input of an <see cref="PlanOp.Add"/>: the step whose output is the shortcut path's (-1: the network input).</summary>
    public int Shortcut { get; init; }

    /// <summary>
    /// For an <see cref="PlanOp.Add"/> whose sum next goes through QActivation(1): the step also writes the sum's packed
    /// signs, so the next binary convolution reads bits while the next shortcut reads the floats.
    /// </summary>
    public bool PackSign { get; init; }

    /// <summary>Activation bits of a <see cref="PlanOp.Quantize"/>, <see cref="PlanOp.BitSerialConv"/> or <see cref="PlanOp.BitSerialDense"/> step (0 otherwise).</summary>
    public int Bits { get; init; }

    /// <summary>Whether the step writes floats (every step but the bit-only ones: an add with <see cref="PackSign"/> writes both).</summary>
    public bool OutputFloats => !OutputBits;

    /// <summary>Whether packed bits of the step's output exist: it writes bits, or an add packs its signs too.</summary>
    public bool HasBits => OutputBits || PackSign;

    /// <summary>The fused BatchNorm layer, or null.</summary>
    public string? Norm { get; init; }

    /// <summary>Whether the step adds <c>{Layer}.bias</c>.</summary>
    public bool Bias { get; init; }

    /// <summary>Kernel of the step's own or fused pooling (0 for none).</summary>
    public int PoolKernel { get; init; }

    /// <summary>Stride of the step's own or fused pooling.</summary>
    public int PoolStride { get; init; }

    /// <summary>The layer's spec (convolution and dense steps), for kernel, stride, padding and units.</summary>
    public LayerSpec? Spec { get; init; }

    /// <summary>Whether the step reads packed bits (else floats).</summary>
    public bool InputBits => PackedPlan.ReadsBits(Op);

    /// <summary>
    /// The step as one line of the plan text, e.g. <c>float_conv conv1 1x28x28 -> bits 64x12x12 bias bn=bn1 pool=2/2 last=qact1</c>.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(OpName(Op)).Append(' ').Append(Layer).Append(' ').Append(Input).Append(" -> ")
            .Append(OutputBits ? "bits " : "floats ").Append(Output);
        if (Spec is { Kind: LayerKind.Convolution or LayerKind.QConvolution } conv)
            text.Append(Invariant(" k={0}/{1}/{2}", conv.Kernel, conv.Stride, conv.Pad))
                .Append(Op == PlanOp.XnorConv ? (conv.Padding == Padding.Zero ? " pad=zero" : " pad=one") : "");
        if (Bias)
            text.Append(" bias");
        if (Norm is not null)
            text.Append(Op is PlanOp.XnorConv or PlanOp.XnorDense && OutputBits ? " threshold=" : " bn=").Append(Norm);
        if (Op is PlanOp.BitSerialConv or PlanOp.BitSerialDense && Spec is not null)
            text.Append(Invariant(" bits={0}/{1}", Bits, Spec.WeightBits));
        else if (Op == PlanOp.Quantize)
            text.Append(Invariant(" bits={0}", Bits));
        if (PoolKernel > 0)
            text.Append(Invariant(" pool={0}/{1}", PoolKernel, PoolStride));
        if (Last != Layer)
            text.Append(" last=").Append(Last);
        if (Source != Index - 1)
            text.Append(" in=").Append(StepName(Source));
        if (Op == PlanOp.Add)
            text.Append(" shortcut=").Append(StepName(Shortcut)).Append(PackSign ? " sign" : "");
        return text.ToString();
    }

    /// <summary>The op's name in the plan text (snake case).</summary>
    public static string OpName(PlanOp op) => op switch
    {
        PlanOp.Sign => "sign",
        PlanOp.Unpack => "unpack",
        PlanOp.Repack => "repack",
        PlanOp.FloatConv => "float_conv",
        PlanOp.FloatDense => "float_dense",
        PlanOp.BitsDense => "bits_dense",
        PlanOp.Affine => "affine",
        PlanOp.MaxPool => "max_pool",
        PlanOp.AvgPool => "avg_pool",
        PlanOp.GlobalAvgPool => "global_avg_pool",
        PlanOp.ReLU => "relu",
        PlanOp.PackedMaxPool => "packed_max_pool",
        PlanOp.XnorConv => "xnor_conv",
        PlanOp.XnorDense => "xnor_dense",
        PlanOp.Add => "add",
        PlanOp.Quantize => "quantize",
        PlanOp.BitSerialConv => "bitserial_conv",
        _ => "bitserial_dense",
    };

    /// <summary>A step reference in the plan text: its 1-based line number, or <c>input</c>.</summary>
    private static string StepName(int index) => index < 0 ? "input" : (index + 1).ToString(CultureInfo.InvariantCulture);

    private static string Invariant(string format, params object[] values) => string.Format(CultureInfo.InvariantCulture, format, values);
}
