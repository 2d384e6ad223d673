// The networks the LeNet benchmarks run: the binary LeNet of the training issue and its float twin (same shapes,
// 32-bit middle layers, no sign activations), each declared with attributes and generated like a user's network.
namespace BnnDsl.Benchmarks;

/// <summary>Binary LeNet: float first and last layer, XNOR middle layers.</summary>
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
public partial class BinaryLeNet;

/// <summary>The same network with float middle layers and ReLU instead of sign: the baseline a float framework trains.</summary>
[Network(1, 28, 28)]
[Convolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[ReLU]
[Convolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[ReLU]
[Flatten]
[FullyConnected(512)]
[BatchNorm]
[ReLU]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class FloatLeNet;
