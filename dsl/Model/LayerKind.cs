// The kinds of layer a network can declare; one per layer attribute (the last three mark residual blocks).
namespace BnnDsl;

/// <summary>What a <see cref="LayerSpec"/> computes.</summary>
public enum LayerKind
{
    /// <summary>Quantized convolution (<see cref="QConvolutionAttribute"/>).</summary>
    QConvolution,
    /// <summary>Quantized fully connected layer (<see cref="QFullyConnectedAttribute"/>).</summary>
    QFullyConnected,
    /// <summary>Activation quantizer (<see cref="QActivationAttribute"/>).</summary>
    QActivation,
    /// <summary>Float32 convolution (<see cref="ConvolutionAttribute"/>).</summary>
    Convolution,
    /// <summary>Float32 fully connected layer (<see cref="FullyConnectedAttribute"/>).</summary>
    FullyConnected,
    /// <summary>Batch normalization (<see cref="BatchNormAttribute"/>).</summary>
    BatchNorm,
    /// <summary>Max pooling (<see cref="MaxPoolAttribute"/>).</summary>
    MaxPool,
    /// <summary>Average pooling (<see cref="AvgPoolAttribute"/>).</summary>
    AvgPool,
    /// <summary>Global average pooling (<see cref="GlobalAvgPoolAttribute"/>).</summary>
    GlobalAvgPool,
    /// <summary>Flatten (<see cref="FlattenAttribute"/>).</summary>
    Flatten,
    /// <summary>ReLU (<see cref="ReLUAttribute"/>).</summary>
    ReLU,
    /// <summary>Softmax cross-entropy loss head (<see cref="SoftmaxCrossEntropyAttribute"/>).</summary>
    SoftmaxCrossEntropy,
    /// <summary>Opens a residual block (<see cref="ResidualAttribute"/>); its output is its input, the block input.</summary>
    Residual,
    /// <summary>Ends a residual block's main path and starts its shortcut path, which reads the block input (<see cref="ShortcutAttribute"/>).</summary>
    Shortcut,
    /// <summary>Closes a residual block: adds the main path's output and the shortcut's (or the block input) element-wise (<see cref="EndResidualAttribute"/>).</summary>
    EndResidual,
}
