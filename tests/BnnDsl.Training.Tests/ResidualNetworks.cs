// Residual networks declared with attributes: a small one for the gradient check and ResNet-18 (CIFAR, Bi-Real style),
// the attribute twin of examples/ResNet18/resnet18.bnn.
namespace BnnDsl.Training.Tests;

/// <summary>
/// Two identity blocks (a repeat) around a binary convolution, then a downsampling block whose shortcut pools and
/// projects the block input, and a nested identity block whose main path is itself a block.
/// </summary>
[Network(3, 8, 8)]
[Convolution(8, 3, Pad = 1)]
[BatchNorm]
[Repeat(2)]
[Residual, QActivation(1), QConvolution(8, 3, Pad = 1), BatchNorm, EndResidual]
[EndRepeat]
[Residual, QActivation(1), QConvolution(16, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), Convolution(16, 1), BatchNorm, EndResidual]
[Residual]
[Residual, QActivation(1), QConvolution(16, 3, Pad = 1, Padding = Padding.Zero), BatchNorm, EndResidual]
[BatchNorm]
[EndResidual]
[GlobalAvgPool]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class SmallResNet;

/// <summary>ResNet-18 for CIFAR-10, Bi-Real style: each binary 3x3 convolution in its own residual block.</summary>
[Network(3, 32, 32)]
[Convolution(64, 3, Pad = 1)]
[BatchNorm]
// Stage 1, 64x32x32: two basic blocks, i.e. four binary convolutions.
[Repeat(4)]
[Residual, QActivation(1), QConvolution(64, 3, Pad = 1), BatchNorm, EndResidual]
[EndRepeat]
// Stage 2, 128x16x16: the first block halves the size; its shortcut downsamples the block input to match.
[Residual, QActivation(1), QConvolution(128, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), Convolution(128, 1), BatchNorm, EndResidual]
[Repeat(3)]
[Residual, QActivation(1), QConvolution(128, 3, Pad = 1), BatchNorm, EndResidual]
[EndRepeat]
// Stage 3, 256x8x8.
[Residual, QActivation(1), QConvolution(256, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), Convolution(256, 1), BatchNorm, EndResidual]
[Repeat(3)]
[Residual, QActivation(1), QConvolution(256, 3, Pad = 1), BatchNorm, EndResidual]
[EndRepeat]
// Stage 4, 512x4x4.
[Residual, QActivation(1), QConvolution(512, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), Convolution(512, 1), BatchNorm, EndResidual]
[Repeat(3)]
[Residual, QActivation(1), QConvolution(512, 3, Pad = 1), BatchNorm, EndResidual]
[EndRepeat]
[GlobalAvgPool]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class ResNet18;

/// <summary>
/// The corner cases of the buffer plan: a block on the network input (no input gradient), an empty block (2x), a
/// nested block with an empty shortcut path (the block input read three times), and a block whose sum is the logits.
/// </summary>
[Network(4, 6, 6)]
[Residual, Convolution(4, 3, Pad = 1), EndResidual]
[Residual, EndResidual]
[Residual, Residual, QActivation(1), QConvolution(4, 3, Pad = 1), BatchNorm, EndResidual, Shortcut, EndResidual]
[GlobalAvgPool]
[Residual, FullyConnected(4), Shortcut, BatchNorm, EndResidual]
[SoftmaxCrossEntropy]
public partial class CornerResNet;
