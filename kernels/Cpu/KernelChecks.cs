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
}
