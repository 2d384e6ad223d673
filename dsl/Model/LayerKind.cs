// The kinds of layer a network can declare; one per layer attribute.
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
}
