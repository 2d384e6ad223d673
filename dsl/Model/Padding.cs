// The value padded positions of a binary convolution hold (DESIGN.md, Numerics).
namespace BnnDsl;

/// <summary>What a quantized convolution reads at padded positions.</summary>
public enum Padding
{
    /// <summary>+1, the natural value of a zero word; the fast default.</summary>
    One = 0,
    /// <summary>0, as a float convolution with zero padding computes; exact through a per-position correction.</summary>
    Zero = 1,
}
