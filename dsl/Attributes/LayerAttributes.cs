// The layer attributes users write under [Network]; each maps to one LayerKind and carries only declared options.
using System;

namespace BnnDsl;

/// <summary>Base of every layer attribute. Layers run in the order their attributes are written.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
    /// <summary>The declared layer (shapes not yet inferred), located at <paramref name="location"/> when known.</summary>
    public abstract LayerSpec ToLayerSpec(SourceLocation? location = null);
}

/// <summary>
/// Quantized 2-D convolution without bias: <see cref="WeightBits"/>-bit weights applied to <see cref="ActBits"/>-bit
/// inputs; 1 x 1 bits runs as XNOR + popcount on packed words, both widths in 2..8 bit-serially, 32 x 32 as float32,
/// anything else (9..31 bits, mixed widths) as quantize-dequantize in float32 (see <see cref="LayerKernels"/>).
/// </summary>
public sealed class QConvolutionAttribute(int filters, int kernel) : LayerAttribute
{
    /// <summary>Output channels.</summary>
    public int Filters { get; } = filters;

    /// <summary>Side of the square kernel.</summary>
    public int Kernel { get; } = kernel;

    /// <summary>Step between kernel positions.</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Padding added on each side.</summary>
    public int Pad { get; set; }

    /// <summary>The value padded positions hold.</summary>
    public Padding Padding { get; set; } = Padding.One;

    /// <summary>Bit width of the weights (1..32).</summary>
    public int WeightBits { get; set; } = 1;

    /// <summary>Bit width of the input activations (1..32).</summary>
    public int ActBits { get; set; } = 1;

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.QConvolution, Filters, Kernel, Stride, Pad, Padding, WeightBits, ActBits, location);
}

/// <summary>Quantized fully connected layer without bias; needs a flat input.</summary>
public sealed class QFullyConnectedAttribute(int units) : LayerAttribute
{
    /// <summary>Output features.</summary>
    public int Units { get; } = units;

    /// <summary>Bit width of the weights (1..32).</summary>
    public int WeightBits { get; set; } = 1;

    /// <summary>Bit width of the input activations (1..32).</summary>
    public int ActBits { get; set; } = 1;

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.QFullyConnected, Units, WeightBits: WeightBits, ActivationBits: ActBits, Location: location);
}

/// <summary>Quantizes activations to <see cref="Bits"/> bits: sign for 1 bit, DoReFa uniform for 2..31, the identity for 32.</summary>
public sealed class QActivationAttribute : LayerAttribute
{
    /// <summary>A 1-bit (sign) activation.</summary>
    public QActivationAttribute()
    {
    }

    /// <summary>A <paramref name="bits"/>-bit activation.</summary>
    public QActivationAttribute(int bits) => Bits = bits;

    /// <summary>Bit width of the outputs (1..32).</summary>
    public int Bits { get; set; } = 1;

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.QActivation, ActivationBits: Bits, Location: location);
}

/// <summary>Float32 2-D convolution with bias.</summary>
public sealed class ConvolutionAttribute(int filters, int kernel) : LayerAttribute
{
    /// <summary>Output channels.</summary>
    public int Filters { get; } = filters;

    /// <summary>Side of the square kernel.</summary>
    public int Kernel { get; } = kernel;

    /// <summary>Step between kernel positions.</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zero padding added on each side.</summary>
    public int Pad { get; set; }

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.Convolution, Filters, Kernel, Stride, Pad, WeightBits: 32, ActivationBits: 32, Location: location);
}

/// <summary>Float32 fully connected layer with bias; needs a flat input.</summary>
public sealed class FullyConnectedAttribute(int units) : LayerAttribute
{
    /// <summary>Output features.</summary>
    public int Units { get; } = units;

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.FullyConnected, Units, WeightBits: 32, ActivationBits: 32, Location: location);
}

/// <summary>Batch normalization per channel (gamma, beta, running mean and variance in float32).</summary>
public sealed class BatchNormAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.BatchNorm, WeightBits: 32, Location: location);
}

/// <summary>Max pooling over square windows.</summary>
public sealed class MaxPoolAttribute : LayerAttribute
{
    /// <summary>Windows of <paramref name="size"/> x <paramref name="size"/>, stride equal to the size.</summary>
    public MaxPoolAttribute(int size) => (Size, Stride) = (size, size);

    /// <summary>Windows of <paramref name="size"/> x <paramref name="size"/> every <paramref name="stride"/> positions.</summary>
    public MaxPoolAttribute(int size, int stride) => (Size, Stride) = (size, stride);

    /// <summary>Side of the window.</summary>
    public int Size { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.MaxPool, Kernel: Size, Stride: Stride, Location: location);
}

/// <summary>Average pooling over square windows.</summary>
public sealed class AvgPoolAttribute : LayerAttribute
{
    /// <summary>Windows of <paramref name="size"/> x <paramref name="size"/>, stride equal to the size.</summary>
    public AvgPoolAttribute(int size) => (Size, Stride) = (size, size);

    /// <summary>Windows of <paramref name="size"/> x <paramref name="size"/> every <paramref name="stride"/> positions.</summary>
    public AvgPoolAttribute(int size, int stride) => (Size, Stride) = (size, stride);

    /// <summary>Side of the window.</summary>
    public int Size { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.AvgPool, Kernel: Size, Stride: Stride, Location: location);
}

/// <summary>Averages each channel over height and width; the output is flat (one value per channel).</summary>
public sealed class GlobalAvgPoolAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.GlobalAvgPool, Location: location);
}

/// <summary>Flattens channels x height x width into one feature vector.</summary>
public sealed class FlattenAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.Flatten, Location: location);
}

/// <summary>max(x, 0).</summary>
public sealed class ReLUAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.ReLU, Location: location);
}

/// <summary>Loss head: softmax followed by cross-entropy against the label.</summary>
public sealed class SoftmaxCrossEntropyAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.SoftmaxCrossEntropy, Location: location);
}

/// <summary>
/// Opens a residual block: the layers after it form the main path, which reads the block input. Close the block with
/// <see cref="EndResidualAttribute"/>; put <see cref="ShortcutAttribute"/> in between for a shortcut path other than
/// the identity. Blocks may nest.
/// </summary>
public sealed class ResidualAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.Residual, Location: location);
}

/// <summary>
/// Ends the main path of the innermost open residual block and starts its shortcut path: the layers after it read the
/// block input (e.g. [AvgPool(2)] [Convolution(128, 1)] [BatchNorm] to downsample it).
/// </summary>
public sealed class ShortcutAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.Shortcut, Location: location);
}

/// <summary>
/// Closes the innermost open residual block: its output is the element-wise sum of the main path's output and the
/// shortcut path's output (the block input when the block has no <see cref="ShortcutAttribute"/>); the shapes must match.
/// </summary>
public sealed class EndResidualAttribute : LayerAttribute
{
    /// <inheritdoc/>
    public override LayerSpec ToLayerSpec(SourceLocation? location = null) =>
        new(LayerKind.EndResidual, Location: location);
}
