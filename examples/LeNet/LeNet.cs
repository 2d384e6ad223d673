// The binary LeNet: a float first convolution, a binary convolution and a binary fully connected layer.
namespace BnnDsl.Examples.LeNet;

/// <summary>LeNet with 1-bit weights and activations in its middle layers (Courbariaux et al., BinaryNet, 2016).</summary>
[Network(1, 28, 28)]
[Convolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[QConvolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[Flatten]
[QFullyConnected(512)]
[BatchNorm]
[QActivation(1)]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class LeNet;
