// The one rule that picks a layer's arithmetic from its kind and bit widths (shared by generator, SpecNetwork, summary).
namespace BnnDsl.Dsl.Tests;

public class LayerKernelTests
{
    [Theory]
    [InlineData(LayerKind.QConvolution, 1, 1, LayerKernel.Xnor)]
    [InlineData(LayerKind.QFullyConnected, 1, 1, LayerKernel.Xnor)]
    [InlineData(LayerKind.QConvolution, 2, 2, LayerKernel.BitSerial)]
    [InlineData(LayerKind.QConvolution, 4, 8, LayerKernel.BitSerial)]
    [InlineData(LayerKind.QFullyConnected, 8, 2, LayerKernel.BitSerial)]
    [InlineData(LayerKind.QConvolution, 32, 32, LayerKernel.Float)]
    [InlineData(LayerKind.QConvolution, 9, 9, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QFullyConnected, 12, 16, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QConvolution, 31, 31, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QConvolution, 8, 9, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QConvolution, 1, 32, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QConvolution, 32, 1, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QFullyConnected, 1, 4, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.QFullyConnected, 4, 32, LayerKernel.QuantizeDequantize)]
    [InlineData(LayerKind.Convolution, 32, 32, LayerKernel.Float)]
    [InlineData(LayerKind.FullyConnected, 32, 32, LayerKernel.Float)]
    [InlineData(LayerKind.QActivation, 0, 1, LayerKernel.Sign)]
    [InlineData(LayerKind.QActivation, 0, 2, LayerKernel.Quantize)]
    [InlineData(LayerKind.QActivation, 0, 16, LayerKernel.Quantize)]
    [InlineData(LayerKind.QActivation, 0, 32, LayerKernel.Quantize)]
    [InlineData(LayerKind.BatchNorm, 32, 0, LayerKernel.None)]
    [InlineData(LayerKind.Flatten, 0, 0, LayerKernel.None)]
    public void EachWidthHasOneKernel(LayerKind kind, int weightBits, int activationBits, LayerKernel kernel)
    {
        Assert.Equal(kernel, LayerKernels.Of(kind, weightBits, activationBits));
        Assert.Equal(kernel, LayerKernels.Of(new LayerSpec(kind, WeightBits: weightBits, ActivationBits: activationBits)));
    }
}
