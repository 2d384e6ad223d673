// The value a binary convolution reads outside the image: +1 (a zero word, the default) or 0 (as a float conv).
namespace BnnDsl.Kernels.Cpu;

/// <summary>What a binary convolution's padded taps contribute.</summary>
public enum BinaryPadding
{
    /// <summary>Padded cells are +1, the value of a zero word: the padded taps add <c>+1 * w</c>. No correction needed.</summary>
    One = 0,
    /// <summary>
    /// Padded cells are 0, exactly as a float convolution with zero padding: the padded taps add nothing. The
    /// packed kernel computes them as +1 and subtracts each padded tap's weight sum per output position.
    /// </summary>
    Zero = 1,
}
