// Argument checks shared by the kernels: each failure names the argument and the size it must have.
namespace BnnDsl.Kernels.Cpu;

internal static class KernelChecks
{
    public static void Length<T>(ReadOnlySpan<T> span, long required, string name, string what)
    {
        if (span.Length < required)
            throw new ArgumentException($"{name} holds {span.Length} elements but needs at least {required} ({what}).", name);
    }

    public static void Length<T>(Span<T> span, long required, string name, string what)
        => Length((ReadOnlySpan<T>)span, required, name, what);

    public static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");
    }

    /// <summary>
    /// Dot products of <paramref name="k"/> <paramref name="activationBits"/>-bit codes with <paramref name="weightBits"/>-bit
    /// weight levels must fit in int32: else an <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/>
    /// and ending with <paramref name="fix"/> (e.g. "split K").
    /// </summary>
    public static void DotFitsInt32(int k, int activationBits, int weightBits, string name, string fix)
    {
        long largest = (long)k * ((1 << activationBits) - 1) * ((1 << weightBits) - 1);
        if (largest > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, k,
                $"K = {k} is too long for int32 dot products at {activationBits} x {weightBits} bits (K * (2^ka - 1) * (2^kw - 1) = {largest}); {fix}.");
    }

    /// <summary>A shape field that must be at least 1: an <see cref="ArgumentException"/> naming the field.</summary>
    public static void ShapeFieldPositive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentException($"{name} is {value} but must be at least 1.", name);
    }

    /// <summary>
    /// A window (<paramref name="noun"/>: "kernel" or "window") must fit in its padded input along one axis, e.g.
    /// KernelH in Height + 2 * PadH.
    /// </summary>
    public static void WindowFits(int window, int size, int pad, string noun, string axis, char axisLetter)
    {
        if (window > size + 2L * pad)
        {
            string name = $"Kernel{axisLetter}";
            string sizeName = axisLetter == 'H' ? "Height" : "Width";
            throw new ArgumentException(
                $"{name} ({window}) is larger than the padded input {axis} {sizeName} + 2 * Pad{axisLetter} ({size + 2L * pad}); use a smaller {noun} or more padding.",
                name);
        }
    }
}
