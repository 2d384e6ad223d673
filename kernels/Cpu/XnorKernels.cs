// XNOR-popcount micro-kernels: popcount(a XOR b) of one packed row of A against the 16 columns of a B panel.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>A micro-kernel: <c>counts[j] = popcount(a XOR column j of the panel)</c> over kWords words, j = 0..15.</summary>
internal unsafe interface IXnorRowKernel
{
    static abstract void Popcounts(ulong* a, ulong* panel, int kWords, ulong* counts);
}

/// <summary>Scalar <c>popcnt</c>: eight independent accumulators per half panel.</summary>
internal readonly unsafe struct ScalarXnorKernel : IXnorRowKernel
{
    public static void Popcounts(ulong* a, ulong* panel, int kWords, ulong* counts)
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
            counts[half] = c0; counts[half + 1] = c1; counts[half + 2] = c2; counts[half + 3] = c3;
            counts[half + 4] = c4; counts[half + 5] = c5; counts[half + 6] = c6; counts[half + 7] = c7;
        }
    }
}

/// <summary>AVX2: two 4-column accumulators (a 1×8 tile), run on each half of the panel.</summary>
internal readonly unsafe struct Avx2XnorKernel : IXnorRowKernel
{
    public static void Popcounts(ulong* a, ulong* panel, int kWords, ulong* counts)
    {
        HarleySeal.TwoVectors<Avx2Lanes, Vector256<ulong>>(a, panel, kWords, counts);
        HarleySeal.TwoVectors<Avx2Lanes, Vector256<ulong>>(a, panel + 8, kWords, counts + 8);
    }
}

/// <summary>AVX-512: two 8-column accumulators cover the whole panel (a 1×16 tile).</summary>
internal readonly unsafe struct Avx512XnorKernel : IXnorRowKernel
{
    public static void Popcounts(ulong* a, ulong* panel, int kWords, ulong* counts)
        => HarleySeal.TwoVectors<Avx512Lanes, Vector512<ulong>>(a, panel, kWords, counts);
}

/// <summary>
/// Harley–Seal popcount along K with output columns in the vector lanes (Muła, Kurz and Lemire, "Faster
/// population counts using AVX2 instructions", 2018). Each K step broadcasts one word of A, XORs it with the
/// panel's words of the same K step and feeds the result into a carry-save adder tree (ones, twos, fours); the
/// table popcount runs once per 8 K steps, on the eights.
/// </summary>
internal static unsafe class HarleySeal
{
    /// <summary>
    /// Counts for 2 vectors of columns starting at <paramref name="b"/> (rows of the panel are
    /// <see cref="XnorPackedB.PanelWidth"/> words apart); writes <c>2 × Lanes</c> counts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TwoVectors<TOps, TVec>(ulong* a, ulong* b, int kWords, ulong* counts)
        where TOps : IBitLanes<TVec> where TVec : struct
    {
        const int S = XnorPackedB.PanelWidth;
        int lanes = TOps.Lanes;
        TVec ones0 = TOps.Zero, ones1 = TOps.Zero, twos0 = TOps.Zero, twos1 = TOps.Zero;
        TVec fours0 = TOps.Zero, fours1 = TOps.Zero, eights0 = TOps.Zero, eights1 = TOps.Zero;
        int k = 0;
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
            eights0 = TOps.Add(eights0, TOps.PopCount(eightsNew0));
            eights1 = TOps.Add(eights1, TOps.PopCount(eightsNew1));
        }

        // total = 8 * eights + 4 * popcount(fours) + 2 * popcount(twos) + popcount(ones) + the K tail.
        TVec total0 = TOps.ShiftLeft(eights0, 3), total1 = TOps.ShiftLeft(eights1, 3);
        total0 = TOps.Add(total0, TOps.ShiftLeft(TOps.PopCount(fours0), 2));
        total1 = TOps.Add(total1, TOps.ShiftLeft(TOps.PopCount(fours1), 2));
        total0 = TOps.Add(total0, TOps.ShiftLeft(TOps.PopCount(twos0), 1));
        total1 = TOps.Add(total1, TOps.ShiftLeft(TOps.PopCount(twos1), 1));
        total0 = TOps.Add(total0, TOps.PopCount(ones0));
        total1 = TOps.Add(total1, TOps.PopCount(ones1));
        for (; k < kWords; k++)
        {
            ulong* bk = b + k * S;
            TVec x = TOps.Broadcast(a + k);
            total0 = TOps.Add(total0, TOps.PopCount(TOps.Xor(x, TOps.Load(bk))));
            total1 = TOps.Add(total1, TOps.PopCount(TOps.Xor(x, TOps.Load(bk + lanes))));
        }
        TOps.Store(total0, counts);
        TOps.Store(total1, counts + lanes);
    }
}
