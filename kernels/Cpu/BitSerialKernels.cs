// Bit-serial micro-kernels: the weighted plane popcounts of one row of A against the 16 columns of a B panel.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BnnDsl.Kernels.Cpu;

/// <summary>
/// A micro-kernel: <c>dots[c] = 2 S[c] - rowOffset</c> for the 16 columns c of a panel, where
/// <c>S[c] = Σ_{i,j} 2^(i+j) popcount(a_i AND w_j[c]) = Σ_k qa[k] * qw[c, k]</c> over the codes. Planes with one weight
/// <c>s = i + j</c> form a "level": A's planes i0..i1 and B's slots for j = s - i0 down to s - i1 are each one
/// contiguous stream (see <see cref="BitSerialPackedB"/>), so a level is a single popcount of
/// <c>(i1 - i0 + 1) * kWords</c> word pairs.
/// </summary>
internal unsafe interface IBitSerialRowKernel
{
    static abstract void RowDots(ulong* a, ulong* panel, int kWords, int activationBits, int weightBits, int rowOffset, int* dots);
}

/// <summary>Where the streams of level <c>s</c> start and how many word pairs they hold.</summary>
internal static class BitSerialLevels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Stream(int s, int kWords, int activationBits, int weightBits, out int aOffset, out int bOffset, out int length)
    {
        int first = Math.Max(0, s - weightBits + 1), last = Math.Min(s, activationBits - 1);
        aOffset = first * kWords;
        bOffset = (weightBits - 1 - (s - first)) * kWords * BitSerialPackedB.PanelWidth;
        length = (last - first + 1) * kWords;
    }
}

/// <summary>Scalar <c>popcnt</c>: eight independent accumulators per half panel; levels combined by Horner's rule.</summary>
internal readonly unsafe struct ScalarBitSerialKernel : IBitSerialRowKernel
{
    public static void RowDots(ulong* a, ulong* panel, int kWords, int activationBits, int weightBits, int rowOffset, int* dots)
    {
        const int S = BitSerialPackedB.PanelWidth;
        int levels = activationBits + weightBits - 1;
        for (int half = 0; half < S; half += 8)
        {
            ulong c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
            for (int s = levels - 1; s >= 0; s--)
            {
                c0 <<= 1; c1 <<= 1; c2 <<= 1; c3 <<= 1; c4 <<= 1; c5 <<= 1; c6 <<= 1; c7 <<= 1;
                BitSerialLevels.Stream(s, kWords, activationBits, weightBits, out int aOffset, out int bOffset, out int length);
                ulong* x = a + aOffset;
                ulong* b = panel + bOffset + half;
                for (int t = 0; t < length; t++, b += S)
                {
                    ulong v = x[t];
                    c0 += (ulong)ulong.PopCount(v & b[0]);
                    c1 += (ulong)ulong.PopCount(v & b[1]);
                    c2 += (ulong)ulong.PopCount(v & b[2]);
                    c3 += (ulong)ulong.PopCount(v & b[3]);
                    c4 += (ulong)ulong.PopCount(v & b[4]);
                    c5 += (ulong)ulong.PopCount(v & b[5]);
                    c6 += (ulong)ulong.PopCount(v & b[6]);
                    c7 += (ulong)ulong.PopCount(v & b[7]);
                }
            }
            int* d = dots + half;
            d[0] = (int)(2 * (long)c0 - rowOffset); d[1] = (int)(2 * (long)c1 - rowOffset);
            d[2] = (int)(2 * (long)c2 - rowOffset); d[3] = (int)(2 * (long)c3 - rowOffset);
            d[4] = (int)(2 * (long)c4 - rowOffset); d[5] = (int)(2 * (long)c5 - rowOffset);
            d[6] = (int)(2 * (long)c6 - rowOffset); d[7] = (int)(2 * (long)c7 - rowOffset);
        }
    }
}

/// <summary>AVX2: two 4-column vectors (8 columns) per pass, two passes per panel.</summary>
internal readonly unsafe struct Avx2BitSerialKernel : IBitSerialRowKernel
{
    public static void RowDots(ulong* a, ulong* panel, int kWords, int activationBits, int weightBits, int rowOffset, int* dots)
    {
        var offset = Vector256.Create((ulong)(long)rowOffset);
        for (int half = 0; half < BitSerialPackedB.PanelWidth; half += 8)
        {
            BitSerialHarleySeal.TwoVectors<Avx2Lanes, Vector256<ulong>>(a, panel + half, kWords, activationBits, weightBits,
                out var total0, out var total1);
            // 2 S - offset wraps in 64 bits; its low 32 bits are the int32 dot.
            Vector256.Narrow((total0 << 1) - offset, (total1 << 1) - offset).AsInt32().Store(dots + half);
        }
    }
}

/// <summary>AVX-512: two 8-column vectors cover the whole panel in one pass.</summary>
internal readonly unsafe struct Avx512BitSerialKernel : IBitSerialRowKernel
{
    public static void RowDots(ulong* a, ulong* panel, int kWords, int activationBits, int weightBits, int rowOffset, int* dots)
    {
        var offset = Vector512.Create((ulong)(long)rowOffset);
        BitSerialHarleySeal.TwoVectors<Avx512Lanes, Vector512<ulong>>(a, panel, kWords, activationBits, weightBits,
            out var total0, out var total1);
        Vector512.Narrow((total0 << 1) - offset, (total1 << 1) - offset).AsInt32().Store(dots);
    }
}

/// <summary>
/// Harley–Seal popcount of <c>a AND w</c> with columns in the vector lanes, over every level of plane pairs.
/// Each K step broadcasts one word of A, ANDs it with the panel's words and feeds a carry-save adder tree
/// (ones, twos, fours); the table popcount runs once per 8 steps, on the carry out. The levels run from the
/// heaviest down, and one tree serves them all: going from level s + 1 to level s doubles the value of what is
/// counted so far, which moves ones to twos and twos to fours and folds the fours into the plain count, so
/// only one popcount per level is added rather than three.
/// </summary>
internal static unsafe class BitSerialHarleySeal
{
    /// <summary>Weighted counts S for 2 vectors of columns starting at <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TwoVectors<TOps, TVec>(ulong* a, ulong* b, int kWords, int activationBits, int weightBits,
        out TVec total0, out TVec total1)
        where TOps : IBitLanes<TVec> where TVec : struct
    {
        const int S = BitSerialPackedB.PanelWidth;
        int lanes = TOps.Lanes;
        int levels = activationBits + weightBits - 1;
        // The count so far = rest + 4 * popcount(fours) + 2 * popcount(twos) + popcount(ones), in units of the level.
        TVec ones0 = TOps.Zero, ones1 = TOps.Zero, twos0 = TOps.Zero, twos1 = TOps.Zero;
        TVec fours0 = TOps.Zero, fours1 = TOps.Zero, rest0 = TOps.Zero, rest1 = TOps.Zero;
        for (int s = levels - 1; s >= 0; s--)
        {
            if (s < levels - 1)
            {
                rest0 = TOps.Add(TOps.ShiftLeft(rest0, 1), TOps.ShiftLeft(TOps.PopCount(fours0), 3));
                rest1 = TOps.Add(TOps.ShiftLeft(rest1, 1), TOps.ShiftLeft(TOps.PopCount(fours1), 3));
                fours0 = twos0; fours1 = twos1;
                twos0 = ones0; twos1 = ones1;
                ones0 = TOps.Zero; ones1 = TOps.Zero;
            }
            BitSerialLevels.Stream(s, kWords, activationBits, weightBits, out int aOffset, out int bOffset, out int length);
            ulong* x0 = a + aOffset;
            ulong* bs = b + bOffset;
            int t = 0;
            for (; t + 8 <= length; t += 8)
            {
                ulong* bk = bs + t * S;
                ulong* xk = x0 + t;
                TVec x = TOps.Broadcast(xk), y = TOps.Broadcast(xk + 1);
                (TVec twosA0, ones0) = TOps.CarrySave(ones0, TOps.And(x, TOps.Load(bk)), TOps.And(y, TOps.Load(bk + S)));
                (TVec twosA1, ones1) = TOps.CarrySave(ones1, TOps.And(x, TOps.Load(bk + lanes)), TOps.And(y, TOps.Load(bk + S + lanes)));
                x = TOps.Broadcast(xk + 2);
                y = TOps.Broadcast(xk + 3);
                (TVec twosB0, ones0) = TOps.CarrySave(ones0, TOps.And(x, TOps.Load(bk + 2 * S)), TOps.And(y, TOps.Load(bk + 3 * S)));
                (TVec twosB1, ones1) = TOps.CarrySave(ones1, TOps.And(x, TOps.Load(bk + 2 * S + lanes)), TOps.And(y, TOps.Load(bk + 3 * S + lanes)));
                (TVec foursA0, twos0) = TOps.CarrySave(twos0, twosA0, twosB0);
                (TVec foursA1, twos1) = TOps.CarrySave(twos1, twosA1, twosB1);
                x = TOps.Broadcast(xk + 4);
                y = TOps.Broadcast(xk + 5);
                (twosA0, ones0) = TOps.CarrySave(ones0, TOps.And(x, TOps.Load(bk + 4 * S)), TOps.And(y, TOps.Load(bk + 5 * S)));
                (twosA1, ones1) = TOps.CarrySave(ones1, TOps.And(x, TOps.Load(bk + 4 * S + lanes)), TOps.And(y, TOps.Load(bk + 5 * S + lanes)));
                x = TOps.Broadcast(xk + 6);
                y = TOps.Broadcast(xk + 7);
                (twosB0, ones0) = TOps.CarrySave(ones0, TOps.And(x, TOps.Load(bk + 6 * S)), TOps.And(y, TOps.Load(bk + 7 * S)));
                (twosB1, ones1) = TOps.CarrySave(ones1, TOps.And(x, TOps.Load(bk + 6 * S + lanes)), TOps.And(y, TOps.Load(bk + 7 * S + lanes)));
                (TVec foursB0, twos0) = TOps.CarrySave(twos0, twosA0, twosB0);
                (TVec foursB1, twos1) = TOps.CarrySave(twos1, twosA1, twosB1);
                (TVec eights0, fours0) = TOps.CarrySave(fours0, foursA0, foursB0);
                (TVec eights1, fours1) = TOps.CarrySave(fours1, foursA1, foursB1);
                rest0 = TOps.Add(rest0, TOps.ShiftLeft(TOps.PopCount(eights0), 3));
                rest1 = TOps.Add(rest1, TOps.ShiftLeft(TOps.PopCount(eights1), 3));
            }
            if (t < length)
            {
                // Fewer than 8 words left: add each to the 3-bit counter (ones, twos, fours) by half adders. A
                // counter overflows at most once in 7 steps, so the carries out never meet and XOR collects them.
                TVec carry0 = TOps.Zero, carry1 = TOps.Zero;
                for (; t < length; t++)
                {
                    ulong* bk = bs + t * S;
                    TVec x = TOps.Broadcast(x0 + t);
                    TVec in0 = TOps.And(x, TOps.Load(bk)), in1 = TOps.And(x, TOps.Load(bk + lanes));
                    TVec c0 = TOps.And(ones0, in0), c1 = TOps.And(ones1, in1);
                    ones0 = TOps.Xor(ones0, in0); ones1 = TOps.Xor(ones1, in1);
                    in0 = TOps.And(twos0, c0); in1 = TOps.And(twos1, c1);
                    twos0 = TOps.Xor(twos0, c0); twos1 = TOps.Xor(twos1, c1);
                    carry0 = TOps.Xor(carry0, TOps.And(fours0, in0));
                    carry1 = TOps.Xor(carry1, TOps.And(fours1, in1));
                    fours0 = TOps.Xor(fours0, in0); fours1 = TOps.Xor(fours1, in1);
                }
                rest0 = TOps.Add(rest0, TOps.ShiftLeft(TOps.PopCount(carry0), 3));
                rest1 = TOps.Add(rest1, TOps.ShiftLeft(TOps.PopCount(carry1), 3));
            }
        }

        total0 = TOps.Add(rest0, TOps.ShiftLeft(TOps.PopCount(fours0), 2));
        total1 = TOps.Add(rest1, TOps.ShiftLeft(TOps.PopCount(fours1), 2));
        total0 = TOps.Add(total0, TOps.ShiftLeft(TOps.PopCount(twos0), 1));
        total1 = TOps.Add(total1, TOps.ShiftLeft(TOps.PopCount(twos1), 1));
        total0 = TOps.Add(total0, TOps.PopCount(ones0));
        total1 = TOps.Add(total1, TOps.PopCount(ones1));
    }
}
