// The shape of one sample flowing between layers: channels x height x width, or a flat feature vector.
using System.Globalization;

namespace BnnDsl;

/// <summary>
/// Shape of one sample (no batch dimension). <see cref="Rank"/> is 3 for channels x height x width, 1 for a flat
/// vector of <see cref="Channels"/> features, and 0 for an unknown shape (<c>default</c>).
/// </summary>
public readonly record struct TensorShape(int Rank, int Channels, int Height, int Width)
{
    /// <summary>A shape that could not be inferred.</summary>
    public static TensorShape Unknown => default;

    /// <summary>A channels x height x width shape.</summary>
    public static TensorShape Image(int channels, int height, int width) => new(3, channels, height, width);

    /// <summary>A flat vector of <paramref name="features"/> values.</summary>
    public static TensorShape Vector(int features) => new(1, features, 1, 1);

    /// <summary>True unless this is <see cref="Unknown"/>.</summary>
    public bool IsKnown => Rank != 0;

    /// <summary>Values in one sample.</summary>
    public long Elements => IsKnown ? (long)Channels * Height * Width : 0;

    /// <summary><c>64x12x12</c>, <c>1024</c>, or <c>?</c> when unknown.</summary>
    public override string ToString() => Rank switch
    {
        3 => string.Format(CultureInfo.InvariantCulture, "{0}x{1}x{2}", Channels, Height, Width),
        1 => Channels.ToString(CultureInfo.InvariantCulture),
        _ => "?",
    };
}
