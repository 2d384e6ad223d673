// Marks a partial class as a network declaration; the layer attributes that follow it, in source order, are its layers.
using System;

namespace BnnDsl;

/// <summary>
/// Declares a network on a top-level <c>partial</c> class. The layer attributes on the same class, in the order
/// they are written, are the layers; the generator adds <c>Spec</c> and <c>Summary()</c> to the class.
/// </summary>
/// <example><code>
/// [Network(1, 28, 28)]
/// [QConvolution(64, 5)]
/// [BatchNorm]
/// public partial class Tiny;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>A network whose input shape is set through the named properties.</summary>
    public NetworkAttribute()
    {
    }

    /// <summary>A network taking <paramref name="inputChannels"/> x <paramref name="inputHeight"/> x <paramref name="inputWidth"/> inputs.</summary>
    public NetworkAttribute(int inputChannels, int inputHeight, int inputWidth)
    {
        InputChannels = inputChannels;
        InputHeight = inputHeight;
        InputWidth = inputWidth;
    }

    /// <summary>Channels of one input sample.</summary>
    public int InputChannels { get; set; }

    /// <summary>Height of one input sample.</summary>
    public int InputHeight { get; set; }

    /// <summary>Width of one input sample.</summary>
    public int InputWidth { get; set; }

    /// <summary>The declared input shape; all zeros when none was declared.</summary>
    public TensorShape InputShape => TensorShape.Image(InputChannels, InputHeight, InputWidth);
}
