// Builds and validates the kernel shapes of convolution and pooling layers, naming the layer in any error.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>Square-kernel shapes of the layers, validated with the layer's name in the message.</summary>
internal static class LayerShapes
{
    public static Conv2dShape Conv(string name, int batch, int height, int width, int channels, int filters, int kernel, int stride, int pad)
    {
        var shape = new Conv2dShape(batch, height, width, channels, filters, kernel, kernel, stride, stride, pad, pad);
        try
        {
            shape.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Layer '{name}': {e.Message}", e.ParamName, e);
        }
        return shape;
    }

    public static Pool2dShape Pool(string name, int batch, int height, int width, int channels, int kernel, int stride, int pad)
    {
        var shape = new Pool2dShape(batch, height, width, channels, kernel, kernel, stride, stride, pad, pad);
        try
        {
            shape.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Layer '{name}': {e.Message}", e.ParamName, e);
        }
        return shape;
    }
}
