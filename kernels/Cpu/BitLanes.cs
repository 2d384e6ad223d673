// Per-lane bit arithmetic on 256- and 512-bit vectors of 64-bit words: popcount, carry-save adder, loads.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// The vector operations the bit kernels are written in, as static abstract members so a kernel written once
/// is compiled separately (and fully inlined) for each width. Lanes are 64-bit words.
/// </summary>
internal unsafe interface IBitLanes<TVec> where TVec : struct
{
    /// <summary>64-bit lanes per vector.</summary>
    static abstract int Lanes { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Load(ulong* p);
    static abstract TVec Broadcast(ulong* p);
    static abstract void Store(TVec v, ulong* p);

    /// <summary>Stores the lanes of <paramref name="low"/> then <paramref name="high"/> as 32-bit integers (values below 2^32).</summary>
    static abstract void StoreNarrow(TVec low, TVec high, uint* p);
    static abstract TVec Xor(TVec a, TVec b);
    static abstract TVec And(TVec a, TVec b);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec ShiftLeft(TVec a, int count);

    /// <summary>
    /// Full adder per bit (carry-save adder): adds <paramref name="carry"/>, <paramref name="b"/> and
    /// <paramref name="c"/>; returns the carry (weight 2) and the sum (weight 1).
    /// </summary>
    static abstract (TVec High, TVec Low) CarrySave(TVec carry, TVec b, TVec c);

    /// <summary>Population count of each byte (0..8), by nibble table lookup.</summary>
    static abstract TVec ByteCounts(TVec v);

    /// <summary>Adds bytes lane by lane (wrapping; callers keep sums below 256).</summary>
    static abstract TVec AddBytes(TVec a, TVec b);

    /// <summary>Sums the 8 bytes of each 64-bit lane.</summary>
    static abstract TVec SumBytes(TVec v);

    /// <summary>Population count of each 64-bit lane.</summary>
    static abstract TVec PopCount(TVec v);
}

/// <summary>AVX2: nibble-table popcount with <c>vpshufb</c> + <c>vpsadbw</c>; the adder takes five logic ops.</summary>
internal readonly unsafe struct Avx2Lanes : IBitLanes<Vector256<ulong>>
{
    public static int Lanes => 4;
    public static Vector256<ulong> Zero => Vector256<ulong>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Load(ulong* p) => Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Broadcast(ulong* p) => Vector256.Create(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<ulong> v, ulong* p) => Avx.Store(p, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNarrow(Vector256<ulong> low, Vector256<ulong> high, uint* p) => Vector256.Narrow(low, high).Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Xor(Vector256<ulong> a, Vector256<ulong> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> And(Vector256<ulong> a, Vector256<ulong> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Add(Vector256<ulong> a, Vector256<ulong> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> ShiftLeft(Vector256<ulong> a, int count) => a << count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<ulong> High, Vector256<ulong> Low) CarrySave(Vector256<ulong> carry, Vector256<ulong> b, Vector256<ulong> c)
    {
        var u = b ^ c;
        return ((b & c) | (u & carry), u ^ carry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> ByteCounts(Vector256<ulong> v)
    {
        var table = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var nibble = Vector256.Create((byte)0x0F);
        var low = v.AsByte() & nibble;
        var high = Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & nibble;
        return (Avx2.Shuffle(table, low) + Avx2.Shuffle(table, high)).AsUInt64();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> AddBytes(Vector256<ulong> a, Vector256<ulong> b) => (a.AsByte() + b.AsByte()).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> SumBytes(Vector256<ulong> v) => Avx2.SumAbsoluteDifferences(v.AsByte(), Vector256<byte>.Zero).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> PopCount(Vector256<ulong> v) => SumBytes(ByteCounts(v));
}

/// <summary>
/// AVX-512: the adder is two <c>vpternlogq</c> (majority and three-way xor); popcount by nibble table per 128-bit
/// lane. Where the processor lacks AVX-512 the same code runs through the 512-bit software fallback (two AVX2
/// halves, or scalar), so the kernels built on it can be tested on any machine.
/// </summary>
internal readonly unsafe struct Avx512Lanes : IBitLanes<Vector512<ulong>>
{
    public static int Lanes => 8;
    public static Vector512<ulong> Zero => Vector512<ulong>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Load(ulong* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Broadcast(ulong* p) => Vector512.Create(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<ulong> v, ulong* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNarrow(Vector512<ulong> low, Vector512<ulong> high, uint* p) => Vector512.Narrow(low, high).Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Xor(Vector512<ulong> a, Vector512<ulong> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> And(Vector512<ulong> a, Vector512<ulong> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Add(Vector512<ulong> a, Vector512<ulong> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> ShiftLeft(Vector512<ulong> a, int count) => a << count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<ulong> High, Vector512<ulong> Low) CarrySave(Vector512<ulong> carry, Vector512<ulong> b, Vector512<ulong> c)
    {
        if (Avx512F.IsSupported)
            return (Avx512F.TernaryLogic(carry, b, c, 0xE8), Avx512F.TernaryLogic(carry, b, c, 0x96));
        var u = b ^ c;
        return ((b & c) | (u & carry), u ^ carry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> ByteCounts(Vector512<ulong> v)
    {
        if (Avx512BW.IsSupported)
        {
            var table = Vector512.Create(
                (byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
            var nibble = Vector512.Create((byte)0x0F);
            var low = v.AsByte() & nibble;
            var high = Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & nibble;
            return (Avx512BW.Shuffle(table, low) + Avx512BW.Shuffle(table, high)).AsUInt64();
        }
        if (Avx2.IsSupported)
            return Vector512.Create(Avx2Lanes.ByteCounts(v.GetLower()), Avx2Lanes.ByteCounts(v.GetUpper()));
        var bytes = v.AsByte();
        Span<byte> counts = stackalloc byte[64];
        for (int i = 0; i < 64; i++)
            counts[i] = (byte)byte.PopCount(bytes[i]);
        return Vector512.Create<byte>(counts).AsUInt64();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> AddBytes(Vector512<ulong> a, Vector512<ulong> b) => (a.AsByte() + b.AsByte()).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> SumBytes(Vector512<ulong> v)
    {
        if (Avx512BW.IsSupported)
            return Avx512BW.SumAbsoluteDifferences(v.AsByte(), Vector512<byte>.Zero).AsUInt64();
        if (Avx2.IsSupported)
            return Vector512.Create(Avx2Lanes.SumBytes(v.GetLower()), Avx2Lanes.SumBytes(v.GetUpper()));
        var bytes = v.AsByte();
        Span<ulong> sums = stackalloc ulong[8];
        for (int i = 0; i < 64; i++)
            sums[i / 8] += bytes[i];
        return Vector512.Create<ulong>(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> PopCount(Vector512<ulong> v) => SumBytes(ByteCounts(v));
}
