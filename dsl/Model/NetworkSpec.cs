// The IR every front end produces and every back end reads: a named network, its input shape and its layers.
namespace BnnDsl;

/// <summary>A network: <paramref name="Name"/>, the shape of one input sample, and its layers in order.</summary>
public sealed record NetworkSpec(string Name, TensorShape Input, EquatableArray<LayerSpec> Layers, SourceLocation? Location = null)
{
    /// <summary>The shape of one output sample (the last layer's), or <see cref="TensorShape.Unknown"/>.</summary>
    public TensorShape Output => Layers.Count == 0 ? TensorShape.Unknown : Layers[Layers.Count - 1].OutputShape;
}
