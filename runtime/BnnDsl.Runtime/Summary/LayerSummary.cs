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
    /// <summary><c>w/a</c> for layers with weights and activations, one width for the others, <c>-</c> for none.</summary>
    public string Bits => (WeightBits, ActivationBits) switch
    {
        ( > 0, > 0) => string.Create(CultureInfo.InvariantCulture, $"{WeightBits}/{ActivationBits}"),
        ( > 0, _) => WeightBits.ToString(CultureInfo.InvariantCulture),
        (_, > 0) => ActivationBits.ToString(CultureInfo.InvariantCulture),
        _ => "-",
    };
}
