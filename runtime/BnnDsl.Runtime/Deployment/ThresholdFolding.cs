// Folds an evaluation-mode BatchNorm followed by sign, after a binary layer, into one integer threshold per channel.
namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// A binary layer's output channel holds an integer dot product y in [-K, K]. The float path computes
/// <c>BN(y) = y * scale + shift</c> in float32 (scale = gamma / sqrt(var + eps), shift = beta - mean * scale, each
/// rounded to float, a separate multiply and add, as <c>BatchNormLayer</c> evaluates them) and then sign(BN(y))
/// (+1 when BN(y) &gt;= 0). Rounding is monotonic, so for scale &gt;= 0 the float function y ↦ BN(y) never
/// decreases; for scale &lt; 0 it never increases, and flipping the channel's weights (every valid bit) turns the dot
/// product into y' = -y, for which y' ↦ BN(-y') never decreases. In both cases the set of integers with BN &gt;= 0 is
/// an upper interval [t, K], and <see cref="Find"/> finds t by binary search over the float formula itself, so
/// "y' &gt;= t" agrees with the float path's sign for every integer, rounding included (no closed form such as
/// ceil(mean - beta * sqrt(var + eps) / gamma) can promise that). gamma = 0 gives a constant BN(y) = shift: t = -K
/// (always +1) when shift &gt;= 0, else K + 1 (always -1); a NaN scale or shift compares false everywhere, so t = K + 1,
/// as the float path's sign(NaN) = -1.
/// <para>
/// Max pooling between BN and sign (LeNet's qconv → bn → maxpool → sign) folds too. With the flip, BN is
/// non-decreasing in y', so for a window of values y'_1..y'_n: max_i BN(y'_i) &gt;= 0 ⇔ some BN(y'_i) &gt;= 0
/// (the max of floats is one of them, exactly) ⇔ some y'_i &gt;= t ⇔ some sign bit is 0 (+1) ⇔ the AND of the
/// window's bits is 0. So sign ∘ maxpool ∘ BN = AND-pooling of the thresholded bits, which is what
/// <c>PackedMaxPool</c> computes.
/// </para>
/// </summary>
public static class ThresholdFolding
{
    /// <summary>
    /// The threshold t for a channel with the given float <paramref name="scale"/> and <paramref name="shift"/> and
    /// dot products in [-<paramref name="k"/>, <paramref name="k"/>]; <paramref name="flip"/> says whether the
    /// channel's weights must be negated (scale &lt; 0). Then sign(BN(y)) = +1 exactly when (flip ? -y : y) &gt;= t.
    /// </summary>
    public static int Find(float scale, float shift, int k, out bool flip)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        flip = scale < 0f;
        int lo = -k, hi = k + 1;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (IsPositive(flip ? -mid : mid, scale, shift))
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo;
    }

    /// <summary>The float path's decision: BN(y) = y * scale + shift (multiply, round, add, round) is &gt;= 0.</summary>
    public static bool IsPositive(int y, float scale, float shift)
    {
        float product = y * scale;
        float value = product + shift;
        return value >= 0f;
    }

    /// <summary>BatchNorm's evaluation-mode scale, rounded exactly as <c>BatchNormLayer</c> computes it.</summary>
    public static float Scale(float gamma, float runningVar, float epsilon) => gamma / MathF.Sqrt(runningVar + epsilon);

    /// <summary>BatchNorm's evaluation-mode shift, rounded exactly as <c>BatchNormLayer</c> computes it.</summary>
    public static float Shift(float beta, float runningMean, float scale) => beta - runningMean * scale;
}
