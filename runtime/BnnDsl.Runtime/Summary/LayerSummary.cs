// One row of a network summary: a layer's output shape, bit widths, parameters, packed memory and MACs.
using System.Globalization;

namespace BnnDsl.Runtime;

/// <summary>
/// The cost of one layer. <see cref="Parameters"/> counts every stored value; <see cref="Bytes"/> stores each at its
/// bit width (1-bit weights take 1 bit); <see cref="Macs"/> counts multiply-accumulates per sample.
/// </summary>
public sealed record LayerSummary(
    int Number, LayerKind Kind, TensorShape OutputShape, int WeightBits, int ActivationBits,
    long Parameters, long Bytes, long Macs)
{
    /// <summary>
    /// <c>w/a</c> for layers with weights and activations, one width for the others, <c>-</c> for none; a
    /// quantize-dequantize layer (<see cref="RunsInFloat"/>) is marked with a trailing <c>*</c>.
    /// </summary>
    public string Bits => (WeightBits, ActivationBits) switch
    {
        ( > 0, > 0) => string.Create(CultureInfo.InvariantCulture, $"{WeightBits}/{ActivationBits}{(RunsInFloat ? "*" : "")}"),
        ( > 0, _) => WeightBits.ToString(CultureInfo.InvariantCulture),
        (_, > 0) => ActivationBits.ToString(CultureInfo.InvariantCulture),
        _ => "-",
    };

    /// <summary>How the layer computes (<see cref="LayerKernels"/>): XNOR, bit-serial, float, quantize-dequantize, ….</summary>
    public LayerKernel Kernel => LayerKernels.Of(Kind, WeightBits, ActivationBits);

    /// <summary>
    /// True for a quantize-dequantize layer (9..31 bits, or mixed widths such as 1/32 or 4/32): its values are
    /// those of its bit widths, its arithmetic is float32, with no speed gain over a 32-bit layer.
    /// </summary>
    public bool RunsInFloat => Kernel == LayerKernel.QuantizeDequantize;
}
