// One layer of the IR: what it computes, its declared options and bit widths, and its inferred shapes.
namespace BnnDsl;

/// <summary>
/// One declared layer. <paramref name="Units"/> is the number of filters or output features, <paramref name="Kernel"/>
/// the side of a convolution kernel or pooling window. <paramref name="WeightBits"/> is 0 for layers without weights,
/// <paramref name="ActivationBits"/> 0 for layers that do not fix their activations' width. The shapes are filled in
/// by <see cref="ShapeInference"/>.
/// </summary>
public sealed record LayerSpec(
    LayerKind Kind,
    int Units = 0,
    int Kernel = 0,
    int Stride = 1,
    int Pad = 0,
    Padding Padding = Padding.One,
    int WeightBits = 0,
    int ActivationBits = 0,
    SourceLocation? Location = null)
{
    /// <summary>Shape of one input sample; <see cref="TensorShape.Unknown"/> until inferred.</summary>
    public TensorShape InputShape { get; init; }

    /// <summary>Shape of one output sample; <see cref="TensorShape.Unknown"/> until inferred.</summary>
    public TensorShape OutputShape { get; init; }
}
