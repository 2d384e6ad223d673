// Pinned word arrays whose usable part starts on a 64-byte boundary, so no vector load of a packed panel row
// splits a cache line (and timings do not depend on where the GC happened to place the array).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BnnDsl.Kernels.Cpu;

internal static unsafe class AlignedWords
{
    /// <summary>Allocates at least <paramref name="length"/> usable words on the pinned heap; they start at word <paramref name="start"/>.</summary>
    public static ulong[] Allocate(long length, out int start)
    {
        var data = GC.AllocateArray<ulong>(checked((int)length + 7), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        start = (int)((64 - (address & 63)) & 63) / sizeof(ulong);
        return data;
    }
}
