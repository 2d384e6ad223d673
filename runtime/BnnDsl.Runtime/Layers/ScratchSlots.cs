// Per-layer scratch buffers for parallel work items, one per thread that can run at once, allocated up front.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// <see cref="KernelParallel.MaxThreads"/> float buffers of one length, allocated in the constructor. A work item
/// takes a free slot with <see cref="Take"/> and gives it back with <see cref="Release"/>; at most that many items
/// of one layer run at once, so a slot is always free. Using a slot allocates nothing, whichever thread runs the
/// item.
/// </summary>
internal sealed class ScratchSlots
{
    private readonly float[][] buffers;
    private readonly int[] busy;

    /// <summary>Allocates one buffer of <paramref name="length"/> floats per thread.</summary>
    public ScratchSlots(int length)
    {
        int count = KernelParallel.MaxThreads;
        buffers = new float[count][];
        for (int i = 0; i < count; i++)
            buffers[i] = new float[length];
        busy = new int[count];
    }

    /// <summary>Takes a free slot and returns its index.</summary>
    public int Take()
    {
        while (true)
        {
            for (int i = 0; i < busy.Length; i++)
                if (Interlocked.CompareExchange(ref busy[i], 1, 0) == 0)
                    return i;
            Thread.SpinWait(8);
        }
    }

    /// <summary>The buffer of slot <paramref name="slot"/>.</summary>
    public float[] Buffer(int slot) => buffers[slot];

    /// <summary>Frees slot <paramref name="slot"/>.</summary>
    public void Release(int slot) => Volatile.Write(ref busy[slot], 0);
}
