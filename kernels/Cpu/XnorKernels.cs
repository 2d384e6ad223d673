// XNOR-popcount micro-kernels: popcount(a XOR b) of one packed row of A against the 16 columns of a B panel.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>A micro-kernel: <c>counts[j] = popcount(a XOR column j of the panel)</c> over kWords words, j = 0..15.</summary>
internal unsafe interface IXnorRowKernel
{
    static abstract void Popcounts(ulong* a, ulong* panel, int kWords, uint* counts);
}

/// <summary>Scalar <c>popcnt</c>: eight independent accumulators per half panel.</summary>
internal readonly unsafe struct ScalarXnorKernel : IXnorRowKernel
{
    public static void Popcounts(ulong* a, ulong* panel, int kWords, uint* counts)
    {
        const int S = XnorPackedB.PanelWidth;
        for (int half = 0; half < S; half += 8)
        {
            ulong c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
            ulong* b = panel + half;
            for (int k = 0; k < kWords; k++, b += S)
            {
                ulong x = a[k];
                c0 += (ulong)ulong.PopCount(x ^ b[0]);
                c1 += (ulong)ulong.PopCount(x ^ b[1]);
                c2 += (ulong)ulong.PopCount(x ^ b[2]);
                c3 += (ulong)ulong.PopCount(x ^ b[3]);
                c4 += (ulong)ulong.PopCount(x ^ b[4]);
                c5 += (ulong)ulong.PopCount(x ^ b[5]);
                c6 += (ulong)ulong.PopCount(x ^ b[6]);
                c7 += (ulong)ulong.PopCount(x ^ b[7]);
            }
            counts[half] = (uint)c0; counts[half + 1] = (uint)c1; counts[half + 2] = (uint)c2; counts[half + 3] = (uint)c3;
            counts[half + 4] = (uint)c4; counts[half + 5] = (uint)c5; counts[half + 6] = (uint)c6; counts[half + 7] = (uint)c7;
        }
    }
}

/// <summary>
/// AVX2: short rows count the whole panel in one pass (four 4-column byte counters); long rows run the adder
/// tree with two 4-column accumulators (a 1×8 tile, all 16 registers) on each half of the panel.
/// </summary>
internal readonly unsafe struct Avx2XnorKernel : IXnorRowKernel
{
    public static void Popcounts(ulong* a, ulong* panel, int kWords, uint* counts)
    {
        if (kWords < HarleySeal.ShortRowWords)
        {
            HarleySeal.ShortRow<Avx2Lanes, Vector256<ulong>>(a, panel, kWords, counts);
            return;
        }
        HarleySeal.LongRow<Avx2Lanes, Vector256<ulong>>(a, panel, kWords, counts);
        HarleySeal.LongRow<Avx2Lanes, Vector256<ulong>>(a, panel + 8, kWords, counts + 8);
    }
}

/// <summary>AVX-512: two 8-column accumulators cover the whole panel (a 1×16 tile).</summary>
internal readonly unsafe struct Avx512XnorKernel : IXnorRowKernel
{
    public static void Popcounts(ulong* a, ulong* panel, int kWords, uint* counts)
    {
        if (kWords < HarleySeal.ShortRowWords)
            HarleySeal.ShortRow<Avx512Lanes, Vector512<ulong>>(a, panel, kWords, counts);
        else
            HarleySeal.LongRow<Avx512Lanes, Vector512<ulong>>(a, panel, kWords, counts);
    }
}

/// <summary>
/// Popcount along K with output columns in the vector lanes: each K step broadcasts one word of A and XORs it
/// with the panel's words of the same K step. Long rows go through a Harley–Seal carry-save adder tree (ones, twos,
/// fours; Muła, Kurz and Lemire, "Faster population counts using AVX2 instructions", 2018), so the table popcount
/// runs once per 8 K steps, on the eights; short rows (under <see cref="ShortRowWords"/> words, e.g. a 3×3 conv over
/// 64 channels) skip the tree, whose fixed cost they would not repay, and count every step with the table.
/// </summary>
internal static unsafe class HarleySeal
{
    /// <summary>Below this many words per row, direct table counting costs fewer operations than the adder tree.</summary>
    public const int ShortRowWords = 16;

    /// <summary>K steps of eights a byte counter can take (at most 8 per step) before it must be summed.</summary>
    private const int EightsPerFlush = 31;

    /// <summary>
    /// Counts for all <see cref="XnorPackedB.PanelWidth"/> columns of the panel: table popcount of every K step into
    /// byte counters (at most 8 × 15 = 120 per byte), one counter per vector of columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ShortRow<TOps, TVec>(ulong* a, ulong* b, int kWords, uint* counts)
        where TOps : IBitLanes<TVec> where TVec : struct
    {
        const int S = XnorPackedB.PanelWidth;
        int lanes = TOps.Lanes;
        if (S / TOps.Lanes == 4)
        {
            TVec bytes0 = TOps.Zero, bytes1 = TOps.Zero, bytes2 = TOps.Zero, bytes3 = TOps.Zero;
            for (int k = 0; k < kWords; k++)
            {
                ulong* bk = b + k * S;
                TVec x = TOps.Broadcast(a + k);
                bytes0 = TOps.AddBytes(bytes0, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk))));
                bytes1 = TOps.AddBytes(bytes1, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk + lanes))));
                bytes2 = TOps.AddBytes(bytes2, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk + 2 * lanes))));
                bytes3 = TOps.AddBytes(bytes3, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk + 3 * lanes))));
            }
            TOps.StoreNarrow(TOps.SumBytes(bytes0), TOps.SumBytes(bytes1), counts);
            TOps.StoreNarrow(TOps.SumBytes(bytes2), TOps.SumBytes(bytes3), counts + 2 * lanes);
        }
        else
        {
            TVec bytes0 = TOps.Zero, bytes1 = TOps.Zero;
            for (int k = 0; k < kWords; k++)
            {
                ulong* bk = b + k * S;
                TVec x = TOps.Broadcast(a + k);
                bytes0 = TOps.AddBytes(bytes0, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk))));
                bytes1 = TOps.AddBytes(bytes1, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk + lanes))));
            }
            TOps.StoreNarrow(TOps.SumBytes(bytes0), TOps.SumBytes(bytes1), counts);
        }
    }

    /// <summary>
    /// Counts for 2 vectors of columns starting at <paramref name="b"/> (rows of the panel are
    /// <see cref="XnorPackedB.PanelWidth"/> words apart) through the adder tree; writes <c>2 × Lanes</c> counts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LongRow<TOps, TVec>(ulong* a, ulong* b, int kWords, uint* counts)
        where TOps : IBitLanes<TVec> where TVec : struct
    {
        const int S = XnorPackedB.PanelWidth;
        int lanes = TOps.Lanes;
        TVec ones0 = TOps.Zero, ones1 = TOps.Zero, twos0 = TOps.Zero, twos1 = TOps.Zero;
        TVec fours0 = TOps.Zero, fours1 = TOps.Zero;
        TVec eightsBytes0 = TOps.Zero, eightsBytes1 = TOps.Zero, eights0 = TOps.Zero, eights1 = TOps.Zero;
        int k = 0, sinceFlush = 0;
        for (; k + 8 <= kWords; k += 8)
        {
            ulong* bk = b + k * S;
            TVec x = TOps.Broadcast(a + k), y = TOps.Broadcast(a + k + 1);
            (TVec twosA0, ones0) = TOps.CarrySave(ones0, TOps.Xor(x, TOps.Load(bk)), TOps.Xor(y, TOps.Load(bk + S)));
            (TVec twosA1, ones1) = TOps.CarrySave(ones1, TOps.Xor(x, TOps.Load(bk + lanes)), TOps.Xor(y, TOps.Load(bk + S + lanes)));
            x = TOps.Broadcast(a + k + 2);
            y = TOps.Broadcast(a + k + 3);
            (TVec twosB0, ones0) = TOps.CarrySave(ones0, TOps.Xor(x, TOps.Load(bk + 2 * S)), TOps.Xor(y, TOps.Load(bk + 3 * S)));
            (TVec twosB1, ones1) = TOps.CarrySave(ones1, TOps.Xor(x, TOps.Load(bk + 2 * S + lanes)), TOps.Xor(y, TOps.Load(bk + 3 * S + lanes)));
            (TVec foursA0, twos0) = TOps.CarrySave(twos0, twosA0, twosB0);
            (TVec foursA1, twos1) = TOps.CarrySave(twos1, twosA1, twosB1);
            x = TOps.Broadcast(a + k + 4);
            y = TOps.Broadcast(a + k + 5);
            (twosA0, ones0) = TOps.CarrySave(ones0, TOps.Xor(x, TOps.Load(bk + 4 * S)), TOps.Xor(y, TOps.Load(bk + 5 * S)));
            (twosA1, ones1) = TOps.CarrySave(ones1, TOps.Xor(x, TOps.Load(bk + 4 * S + lanes)), TOps.Xor(y, TOps.Load(bk + 5 * S + lanes)));
            x = TOps.Broadcast(a + k + 6);
            y = TOps.Broadcast(a + k + 7);
            (twosB0, ones0) = TOps.CarrySave(ones0, TOps.Xor(x, TOps.Load(bk + 6 * S)), TOps.Xor(y, TOps.Load(bk + 7 * S)));
            (twosB1, ones1) = TOps.CarrySave(ones1, TOps.Xor(x, TOps.Load(bk + 6 * S + lanes)), TOps.Xor(y, TOps.Load(bk + 7 * S + lanes)));
            (TVec foursB0, twos0) = TOps.CarrySave(twos0, twosA0, twosB0);
            (TVec foursB1, twos1) = TOps.CarrySave(twos1, twosA1, twosB1);
            (TVec eightsNew0, fours0) = TOps.CarrySave(fours0, foursA0, foursB0);
            (TVec eightsNew1, fours1) = TOps.CarrySave(fours1, foursA1, foursB1);
            eightsBytes0 = TOps.AddBytes(eightsBytes0, TOps.ByteCounts(eightsNew0));
            eightsBytes1 = TOps.AddBytes(eightsBytes1, TOps.ByteCounts(eightsNew1));
            if (++sinceFlush == EightsPerFlush)
            {
                eights0 = TOps.Add(eights0, TOps.SumBytes(eightsBytes0));
                eights1 = TOps.Add(eights1, TOps.SumBytes(eightsBytes1));
                eightsBytes0 = TOps.Zero;
                eightsBytes1 = TOps.Zero;
                sinceFlush = 0;
            }
        }
        eights0 = TOps.Add(eights0, TOps.SumBytes(eightsBytes0));
        eights1 = TOps.Add(eights1, TOps.SumBytes(eightsBytes1));

        // The rest in bytes: popcount(ones) + 2 popcount(twos) + 4 popcount(fours) + the K tail (< 8 steps),
        // at most 8 + 16 + 32 + 56 = 112 per byte.
        TVec rest0 = Weighted<TOps, TVec>(ones0, twos0, fours0), rest1 = Weighted<TOps, TVec>(ones1, twos1, fours1);
        for (; k < kWords; k++)
        {
            ulong* bk = b + k * S;
            TVec x = TOps.Broadcast(a + k);
            rest0 = TOps.AddBytes(rest0, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk))));
            rest1 = TOps.AddBytes(rest1, TOps.ByteCounts(TOps.Xor(x, TOps.Load(bk + lanes))));
        }
        TOps.StoreNarrow(
            TOps.Add(TOps.ShiftLeft(eights0, 3), TOps.SumBytes(rest0)),
            TOps.Add(TOps.ShiftLeft(eights1, 3), TOps.SumBytes(rest1)),
            counts);
    }

    /// <summary>Byte counts of ones + 2 × twos + 4 × fours.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Weighted<TOps, TVec>(TVec ones, TVec twos, TVec fours)
        where TOps : IBitLanes<TVec> where TVec : struct
    {
        TVec f = TOps.ByteCounts(fours);
        TVec t = TOps.AddBytes(TOps.AddBytes(f, f), TOps.ByteCounts(twos));
        return TOps.AddBytes(TOps.AddBytes(t, t), TOps.ByteCounts(ones));
    }
}
