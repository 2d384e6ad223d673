// Argument checks of the GPU kernels: each failure names the argument and the size it must have.
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

internal static class GpuChecks
{
    public static void Device(GpuDevice device, string name)
    {
        ArgumentNullException.ThrowIfNull(device, name);
    }

    public static void Length<T>(ArrayView<T> view, long required, string name, string what) where T : unmanaged
    {
        if (view.Length < required)
            throw new ArgumentException($"{name} holds {view.Length} elements but needs at least {required} ({what}).", name);
    }

    public static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }

    /// <summary>An element count the kernels index with int: at most <see cref="int.MaxValue"/>.</summary>
    public static void FitsInt(long count, string what)
    {
        if (count > int.MaxValue)
            throw new ArgumentException($"{what} is {count} elements; the GPU kernels index at most {int.MaxValue}. Split the work into smaller batches.");
    }
}
