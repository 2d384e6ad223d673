// The one rule, shared by the generator, the runtime's SpecNetwork and the summary, that says which kind of
// arithmetic runs a layer with given bit widths (DESIGN.md, Numerics).
namespace BnnDsl;

/// <summary>How a layer computes.</summary>
public enum LayerKernel
{
    /// <summary>No arithmetic of its own (Flatten, the loss head, the residual markers) or not a quantizing layer.</summary>
    None,
    /// <summary>Float32 arithmetic on float operands (32-bit weights and activations).</summary>
    Float,
    /// <summary>1-bit weights and activations: XNOR + popcount on packed words.</summary>
    Xnor,
    /// <summary>2..8-bit weights and activations: bit-serial popcount over bit planes.</summary>
    BitSerial,
    /// <summary>
    /// Quantize-dequantize: the operands are quantized to their bit widths, their float values are multiplied with
    /// float32 kernels. The values are those of the quantizers, but there is no speed gain over <see cref="Float"/>:
    /// widths 9..31 and mixed widths (1-bit with k-bit or 32-bit, k-bit with 32-bit) run this way.
    /// </summary>
    QuantizeDequantize,
    /// <summary>QActivation(1): sign.</summary>
    Sign,
    /// <summary>QActivation(k), k in 2..31: k-bit DoReFa quantizer; QActivation(32): the identity.</summary>
    Quantize,
}

/// <summary>Chooses the <see cref="LayerKernel"/> of a layer.</summary>
public static class LayerKernels
{
    /// <summary>Fewest bits of a bit-serial operand.</summary>
    public const int MinBitSerialBits = 2;

    /// <summary>Most bits of a bit-serial operand.</summary>
    public const int MaxBitSerialBits = 8;

    /// <summary>The width that means float32.</summary>
    public const int FloatBits = 32;

    /// <summary>The kernel of <paramref name="layer"/>.</summary>
    public static LayerKernel Of(LayerSpec layer) => Of(layer.Kind, layer.WeightBits, layer.ActivationBits);

    /// <summary>
    /// The kernel of a layer of <paramref name="kind"/> with these widths (each valid in 1..32): Convolution and
    /// FullyConnected are <see cref="LayerKernel.Float"/>; QConvolution and QFullyConnected are
    /// <see cref="LayerKernel.Xnor"/> at 1/1, <see cref="LayerKernel.BitSerial"/> with both widths in 2..8,
    /// <see cref="LayerKernel.Float"/> at 32/32 and <see cref="LayerKernel.QuantizeDequantize"/> otherwise;
    /// QActivation is <see cref="LayerKernel.Sign"/> at 1 bit and <see cref="LayerKernel.Quantize"/> otherwise.
    /// </summary>
    public static LayerKernel Of(LayerKind kind, int weightBits, int activationBits) => kind switch
    {
        LayerKind.Convolution or LayerKind.FullyConnected => LayerKernel.Float,
        LayerKind.QConvolution or LayerKind.QFullyConnected => (weightBits, activationBits) switch
        {
            (1, 1) => LayerKernel.Xnor,
            (FloatBits, FloatBits) => LayerKernel.Float,
            _ when IsBitSerial(weightBits) && IsBitSerial(activationBits) => LayerKernel.BitSerial,
            _ => LayerKernel.QuantizeDequantize,
        },
        LayerKind.QActivation => activationBits == 1 ? LayerKernel.Sign : LayerKernel.Quantize,
        _ => LayerKernel.None,
    };

    /// <summary>True for the widths a bit-serial kernel runs (2..8).</summary>
    public static bool IsBitSerial(int bits) => bits is >= MinBitSerialBits and <= MaxBitSerialBits;
}
