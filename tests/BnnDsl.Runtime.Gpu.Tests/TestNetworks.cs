// The networks of the device tests, declared for the source generator: it gives each a Spec, a Packed class and,
// since this project references BnnDsl.Runtime.Gpu, a Device class.
namespace BnnDsl.Runtime.Gpu.Tests;

/// <summary>Float stem with BatchNorm, pool and sign; a binary conv with a packed max pool; repack; binary dense; float dense on bits.</summary>
[Network(1, 12, 12)]
[Convolution(8, 3), BatchNorm, MaxPool(2), QActivation(1)]
[QConvolution(16, 3, Pad = 1), BatchNorm, QActivation(1), MaxPool(2)]
[Flatten, QFullyConnected(32), BatchNorm, QActivation(1)]
[FullyConnected(10), SoftmaxCrossEntropy]
public partial class TinyLeNet;

/// <summary>
/// Residual blocks (one-padded and zero-padded binary convs with float outputs, a float 1x1 shortcut after an average
/// pool), then ReLU, a float max pool, global average pooling, a lone BatchNorm (affine) and a float dense layer.
/// </summary>
[Network(3, 8, 8)]
[Convolution(16, 3, Pad = 1), BatchNorm]
[Residual, QActivation(1), QConvolution(16, 3, Pad = 1), BatchNorm, EndResidual]
[Residual, QActivation(1), QConvolution(24, 3, Stride = 2, Pad = 1, Padding = Padding.Zero), BatchNorm]
[Shortcut, AvgPool(2), Convolution(24, 1), BatchNorm, EndResidual]
[ReLU, MaxPool(2), GlobalAvgPool, BatchNorm, FullyConnected(3), SoftmaxCrossEntropy]
public partial class TinyResNet;

/// <summary>A 2-bit residual block (bit-serial conv), a 2-bit quantizer, a 2-bit dense layer with its BatchNorm, a float dense layer.</summary>
[Network(3, 8, 8)]
[Convolution(16, 3, Pad = 1), BatchNorm]
[Residual, QActivation(2), QConvolution(16, 3, Pad = 1, WeightBits = 2, ActBits = 2), BatchNorm, EndResidual]
[QActivation(2), GlobalAvgPool, QFullyConnected(8, WeightBits = 2, ActBits = 2), BatchNorm]
[FullyConnected(3), SoftmaxCrossEntropy]
public partial class TinyTwoBit;
