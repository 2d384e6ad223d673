// The networks the export tests run through ONNX Runtime (ResNet18 comes from examples/ResNet18/resnet18.bnn).
namespace BnnDsl.Onnx.Tests;

/// <summary>
/// LeNet-like: a float stem, binary convolutions with both paddings, max pooling, a Flatten of 16 × 2 × 2 (the
/// NHWC-vs-NCHW order matters), a binary dense layer with a BatchNorm over features, a float classifier.
/// </summary>
[Network(1, 12, 12)]
[Convolution(8, 3)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[QConvolution(16, 3, Pad = 1)]
[BatchNorm]
[QActivation(1)]
[QConvolution(12, 3, Pad = 1, Padding = Padding.Zero)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[Flatten]
[QFullyConnected(24)]
[BatchNorm]
[QActivation(1)]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class LeNetLike;

/// <summary><see cref="LeNetLike"/> with every quantized layer float (no QActivation): the float peer's oracle.</summary>
[Network(1, 12, 12)]
[Convolution(8, 3)]
[BatchNorm]
[MaxPool(2)]
[QConvolution(16, 3, Pad = 1, WeightBits = 32, ActBits = 32)]
[BatchNorm]
[QConvolution(12, 3, Pad = 1, WeightBits = 32, ActBits = 32)]
[BatchNorm]
[MaxPool(2)]
[Flatten]
[QFullyConnected(24, WeightBits = 32, ActBits = 32)]
[BatchNorm]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class LeNetLikeFloat;

/// <summary>
/// Residual blocks: identity shortcuts (a repeat), a downsampling block whose shortcut pools and projects, a nested
/// block with an empty shortcut path, and a block over flat vectors.
/// </summary>
[Network(3, 8, 8)]
[Convolution(8, 3, Pad = 1)]
[BatchNorm]
[Repeat(2)]
[Residual, QActivation(1), QConvolution(8, 3, Pad = 1), BatchNorm, EndResidual]
[EndRepeat]
[Residual, QActivation(1), QConvolution(16, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), Convolution(16, 1), BatchNorm, EndResidual]
[Residual, Residual, QActivation(1), QConvolution(16, 3, Pad = 1, Padding = Padding.Zero), BatchNorm, EndResidual, Shortcut, EndResidual]
[GlobalAvgPool]
[Residual, FullyConnected(16), Shortcut, BatchNorm, EndResidual]
[FullyConnected(5)]
[SoftmaxCrossEntropy]
public partial class SmallResNet;

/// <summary>
/// k-bit layers: a 2-bit QActivation read by a 2-bit convolution (codes reused), average pooling, a 4-bit convolution
/// that quantizes its own input, ReLU, and a 2-bit dense layer after a Flatten.
/// </summary>
[Network(3, 8, 8)]
[Convolution(8, 3, Pad = 1)]
[BatchNorm]
[QActivation(2)]
[QConvolution(16, 3, Pad = 1, WeightBits = 2, ActBits = 2)]
[BatchNorm]
[AvgPool(2)]
[QConvolution(12, 3, Pad = 1, WeightBits = 4, ActBits = 4)]
[BatchNorm]
[ReLU]
[QActivation(2)]
[Flatten]
[QFullyConnected(20, WeightBits = 2, ActBits = 2)]
[BatchNorm]
[FullyConnected(6)]
[SoftmaxCrossEntropy]
public partial class TwoBitNet;

/// <summary>
/// Quantize-dequantize widths (run in float by the runtime): a 16-bit QActivation, a 12-bit convolution, mixed 1/32
/// and 32/1 convolutions (the latter padding with +1), a 31/16-bit and a 4/32-bit dense layer.
/// </summary>
[Network(3, 8, 8)]
[Convolution(8, 3, Pad = 1)]
[BatchNorm]
[QActivation(16)]
[QConvolution(12, 3, Pad = 1, WeightBits = 12, ActBits = 12)]
[BatchNorm]
[QConvolution(8, 3, Pad = 1, WeightBits = 1, ActBits = 32)]
[BatchNorm]
[QConvolution(8, 3, Pad = 1, WeightBits = 32, ActBits = 1)]
[BatchNorm]
[Flatten]
[QFullyConnected(20, WeightBits = 31, ActBits = 16)]
[BatchNorm]
[QFullyConnected(6, WeightBits = 4, ActBits = 32)]
[SoftmaxCrossEntropy]
public partial class WideBitNet;

/// <summary>sign(x) straight to the output through an identity dense layer: shows ONNX's value of sign(0).</summary>
[Network(2, 2, 3)]
[QActivation(1)]
[Flatten]
[FullyConnected(12)]
public partial class SignProbe;

/// <summary>A 16-bit QActivation straight to the output through an identity dense layer: shows the exported codes.</summary>
[Network(4, 4, 4)]
[QActivation(16)]
[Flatten]
[FullyConnected(64)]
public partial class WideProbe;
