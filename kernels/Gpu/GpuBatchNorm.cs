// Batch normalization on the accelerator (NHWC, channels innermost): training forward with batch statistics and the
// running update, evaluation forward with the running statistics, and the training-mode backward pass.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// The math and the summation order of the runtime's <c>BatchNormLayer</c> over <c>rows × channels</c> floats (rows =
/// batch × positions): <c>y = gamma·(x − mean)·invstd + beta</c>, <c>invstd = 1 / sqrt(var + epsilon)</c>. Training
/// uses the batch mean and biased variance (sums of <c>x − x[row 0]</c>, which keeps the variance free of
/// cancellation) and sets <c>running = (1 − momentum)·running + momentum·batch</c> with the unbiased variance; it
/// keeps mean and invstd for <see cref="Backward"/>, which writes
/// <c>dx = gamma·invstd·(dy − mean(dy) − x̂·mean(dy·x̂))</c>, <c>dgamma = Σ dy·x̂</c>, <c>dbeta = Σ dy</c>. Sums run
/// in float over blocks of <see cref="BlockRows"/> rows (one thread per block and channel, rows in order), then in
/// double over the blocks in order (one thread per channel), as on the CPU. Scratch comes from the caller
/// (<see cref="ScratchLength"/> floats). Launches are asynchronous on the device's default stream.
/// </summary>
public static class GpuBatchNorm
{
    /// <summary>Rows per partial sum, the CPU layer's block.</summary>
    public const int BlockRows = 128;

    /// <summary>Scratch floats every call needs: two partial sums per block and channel plus three per channel.</summary>
    public static int ScratchLength(int rows, int channels)
    {
        GpuChecks.Positive(rows, nameof(rows));
        GpuChecks.Positive(channels, nameof(channels));
        long length = ((long)Blocks(rows) * 2 + 3) * channels;
        GpuChecks.FitsInt(length, "the batch norm scratch");
        return (int)length;
    }

    /// <summary>
    /// Training forward: batch statistics into <paramref name="mean"/> and <paramref name="inverseStd"/> (kept for
    /// <see cref="Backward"/>), the running statistics updated in place, then <paramref name="y"/>.
    /// </summary>
    public static void ForwardTraining(GpuDevice device, ArrayView<float> x, int rows, int channels, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> runningMean, ArrayView<float> runningVar, float momentum, float epsilon,
        ArrayView<float> mean, ArrayView<float> inverseStd, ArrayView<float> scratch, ArrayView<float> y)
    {
        Check(device, x, rows, channels, scratch, y, nameof(y));
        PerChannel(channels, (gamma, nameof(gamma)), (beta, nameof(beta)), (runningMean, nameof(runningMean)),
            (runningVar, nameof(runningVar)), (mean, nameof(mean)), (inverseStd, nameof(inverseStd)));
        if (!(momentum >= 0f && momentum <= 1f))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1].");
        if (!(epsilon > 0f))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        var shape = new Rows(rows, channels, Blocks(rows));
        var partials = scratch.SubView(0, (long)shape.Blocks * 2 * channels);
        var coefficients = scratch.SubView((long)shape.Blocks * 2 * channels, 3L * channels);
        device.Kernel("batchnorm-moments", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, ArrayView<float>, ArrayView<float>>(MomentsKernel))(
            shape.Blocks * channels, shape, x, partials);
        device.Kernel("batchnorm-statistics", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, Statistics, ArrayView<float>, ArrayView<float>>(StatisticsKernel))(
            channels, shape, new Statistics(gamma, beta, runningMean, runningVar, mean, inverseStd, momentum, epsilon), x, partials);
        ScaleShift(device, shape, gamma, beta, mean, inverseStd, coefficients, training: true, epsilon);
        Affine(device, shape, x, coefficients, y);
    }

    /// <summary>Evaluation forward with the running statistics: <c>y = gamma·(x − running_mean) / sqrt(running_var + eps) + beta</c>.</summary>
    public static void ForwardInference(GpuDevice device, ArrayView<float> x, int rows, int channels, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> runningMean, ArrayView<float> runningVar, float epsilon, ArrayView<float> scratch,
        ArrayView<float> y)
    {
        Check(device, x, rows, channels, scratch, y, nameof(y));
        PerChannel(channels, (gamma, nameof(gamma)), (beta, nameof(beta)), (runningMean, nameof(runningMean)), (runningVar, nameof(runningVar)));
        if (!(epsilon > 0f))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        var shape = new Rows(rows, channels, Blocks(rows));
        var coefficients = scratch.SubView((long)shape.Blocks * 2 * channels, 3L * channels);
        ScaleShift(device, shape, gamma, beta, runningMean, runningVar, coefficients, training: false, epsilon);
        Affine(device, shape, x, coefficients, y);
    }

    /// <summary>
    /// Training-mode backward with the <paramref name="mean"/> and <paramref name="inverseStd"/> of the last
    /// <see cref="ForwardTraining"/>: writes <paramref name="dGamma"/>, <paramref name="dBeta"/> and <paramref name="dx"/>.
    /// </summary>
    public static void Backward(GpuDevice device, ArrayView<float> x, ArrayView<float> dy, int rows, int channels,
        ArrayView<float> gamma, ArrayView<float> mean, ArrayView<float> inverseStd, ArrayView<float> dGamma, ArrayView<float> dBeta,
        ArrayView<float> scratch, ArrayView<float> dx)
    {
        Check(device, x, rows, channels, scratch, dx, nameof(dx));
        GpuChecks.Length(dy, (long)rows * channels, nameof(dy), "rows * channels");
        PerChannel(channels, (gamma, nameof(gamma)), (mean, nameof(mean)), (inverseStd, nameof(inverseStd)), (dGamma, nameof(dGamma)),
            (dBeta, nameof(dBeta)));
        var shape = new Rows(rows, channels, Blocks(rows));
        var partials = scratch.SubView(0, (long)shape.Blocks * 2 * channels);
        var coefficients = scratch.SubView((long)shape.Blocks * 2 * channels, 3L * channels);
        device.Kernel("batchnorm-gradient-sums", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GradientSumsKernel))(
            shape.Blocks * channels, shape, x, dy, mean, partials);
        device.Kernel("batchnorm-gradient-coefficients", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, Gradients, ArrayView<float>, ArrayView<float>>(GradientCoefficientsKernel))(
            channels, shape, new Gradients(gamma, mean, inverseStd, dGamma, dBeta), partials, coefficients);
        device.Kernel("batchnorm-gradient", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GradientKernel))(
            rows * channels, shape, x, dy, coefficients, dx);
    }

    private static int Blocks(int rows) => (rows + BlockRows - 1) / BlockRows;

    private static void Check(GpuDevice device, ArrayView<float> x, int rows, int channels, ArrayView<float> scratch, ArrayView<float> output, string outputName)
    {
        GpuChecks.Device(device, nameof(device));
        int scratchLength = ScratchLength(rows, channels);
        GpuChecks.FitsInt((long)rows * channels, "rows * channels");
        GpuChecks.Length(x, (long)rows * channels, nameof(x), "rows * channels");
        GpuChecks.Length(output, (long)rows * channels, outputName, "rows * channels");
        GpuChecks.Length(scratch, scratchLength, nameof(scratch), "GpuBatchNorm.ScratchLength(rows, channels)");
    }

    private static void PerChannel(int channels, params ReadOnlySpan<(ArrayView<float> View, string Name)> vectors)
    {
        foreach (var (view, name) in vectors)
            GpuChecks.Length(view, channels, name, "one float per channel");
    }

    private static void ScaleShift(GpuDevice device, Rows shape, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> center,
        ArrayView<float> spread, ArrayView<float> coefficients, bool training, float epsilon)
    {
        device.Kernel("batchnorm-scale-shift", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, Statistics, ArrayView<float>, int>(ScaleShiftKernel))(
            shape.Channels, shape, new Statistics(gamma, beta, center, spread, center, spread, 0f, epsilon), coefficients, training ? 1 : 0);
    }

    private static void Affine(GpuDevice device, Rows shape, ArrayView<float> x, ArrayView<float> coefficients, ArrayView<float> y)
    {
        device.Kernel("batchnorm-affine", typeof(float), a => a.LoadAutoGroupedStreamKernel<Index1D, Rows, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AffineKernel))(
            shape.RowCount * shape.Channels, shape, x, coefficients, y);
    }

    /// <summary>Thread (block, channel): Σ (x − x0) and Σ (x − x0)² over the block's rows, x0 = row 0.</summary>
    private static void MomentsKernel(Index1D index, Rows shape, ArrayView<float> x, ArrayView<float> partials)
    {
        int c = shape.Channels, block = index / c, channel = index - block * c;
        int first = block * BlockRows, last = IntrinsicMath.Min(shape.RowCount, first + BlockRows);
        float x0 = x[channel], sum = 0f, squares = 0f;
        for (int r = first; r < last; r++)
        {
            float d = x[r * c + channel] - x0;
            sum += d;
            squares += d * d;
        }
        partials[block * 2 * c + channel] = sum;
        partials[block * 2 * c + c + channel] = squares;
    }

    /// <summary>Thread channel: the blocks' sums in double, in order; batch mean, invstd and the running update.</summary>
    private static void StatisticsKernel(Index1D channel, Rows shape, Statistics s, ArrayView<float> x, ArrayView<float> partials)
    {
        int c = shape.Channels;
        double sum = 0, squares = 0;
        for (int b = 0; b < shape.Blocks; b++)
        {
            sum += partials[b * 2 * c + channel];
            squares += partials[b * 2 * c + c + channel];
        }
        double n = shape.RowCount;
        double shiftedMean = sum / n;
        double variance = IntrinsicMath.Max(0.0, squares / n - shiftedMean * shiftedMean);
        double batchMean = x[channel] + shiftedMean;
        s.Mean[channel] = (float)batchMean;
        s.InverseStd[channel] = (float)(1.0 / Math.Sqrt(variance + s.Epsilon));
        double unbiased = shape.RowCount > 1 ? variance * n / (n - 1) : variance;
        s.RunningMean[channel] = (float)((1 - s.Momentum) * s.RunningMean[channel] + s.Momentum * batchMean);
        s.RunningVar[channel] = (float)((1 - s.Momentum) * s.RunningVar[channel] + s.Momentum * unbiased);
    }

    /// <summary>Thread channel: scale and shift of the affine pass, from the batch (training) or running statistics.</summary>
    private static void ScaleShiftKernel(Index1D channel, Rows shape, Statistics s, ArrayView<float> coefficients, int training)
    {
        float scale = training != 0
            ? s.Gamma[channel] * s.InverseStd[channel]
            : s.Gamma[channel] / MathF.Sqrt(s.InverseStd[channel] + s.Epsilon);
        coefficients[channel] = scale;
        coefficients[shape.Channels + channel] = s.Beta[channel] - s.Mean[channel] * scale;
    }

    /// <summary>One thread per element: y = scale·x + shift.</summary>
    private static void AffineKernel(Index1D index, Rows shape, ArrayView<float> x, ArrayView<float> coefficients, ArrayView<float> y)
    {
        int channel = index % shape.Channels;
        y[index] = x[index] * coefficients[channel] + coefficients[shape.Channels + channel];
    }

    /// <summary>Thread (block, channel): Σ dy and Σ dy·(x − mean) over the block's rows.</summary>
    private static void GradientSumsKernel(Index1D index, Rows shape, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean,
        ArrayView<float> partials)
    {
        int c = shape.Channels, block = index / c, channel = index - block * c;
        int first = block * BlockRows, last = IntrinsicMath.Min(shape.RowCount, first + BlockRows);
        float center = mean[channel], sum = 0f, centered = 0f;
        for (int r = first; r < last; r++)
        {
            float g = dy[r * c + channel];
            sum += g;
            centered += g * (x[r * c + channel] - center);
        }
        partials[block * 2 * c + channel] = sum;
        partials[block * 2 * c + c + channel] = centered;
    }

    /// <summary>Thread channel: dbeta, dgamma and dx = k·dy + p·x + q with k = gamma·invstd, p = −k·invstd·dgamma / n, q = −k·dbeta / n − p·mean.</summary>
    private static void GradientCoefficientsKernel(Index1D channel, Rows shape, Gradients s, ArrayView<float> partials, ArrayView<float> coefficients)
    {
        int c = shape.Channels;
        double sumDy = 0, sumDyCentered = 0;
        for (int b = 0; b < shape.Blocks; b++)
        {
            sumDy += partials[b * 2 * c + channel];
            sumDyCentered += partials[b * 2 * c + c + channel];
        }
        float n = shape.RowCount, inverseStd = s.InverseStd[channel];
        float dBeta = (float)sumDy, dGamma = (float)(sumDyCentered * inverseStd);
        s.DBeta[channel] = dBeta;
        s.DGamma[channel] = dGamma;
        float k = s.Gamma[channel] * inverseStd;
        float p = -k * inverseStd * dGamma / n;
        coefficients[channel] = k;
        coefficients[c + channel] = p;
        coefficients[2 * c + channel] = -k * dBeta / n - p * s.Mean[channel];
    }

    /// <summary>One thread per element: dx = k·dy + (p·x + q).</summary>
    private static void GradientKernel(Index1D index, Rows shape, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> coefficients, ArrayView<float> dx)
    {
        int c = shape.Channels, channel = index % c;
        dx[index] = dy[index] * coefficients[channel] + (x[index] * coefficients[c + channel] + coefficients[2 * c + channel]);
    }

    /// <summary>Rows, channels and blocks of one call.</summary>
    internal readonly record struct Rows(int RowCount, int Channels, int Blocks);

    /// <summary>The per-channel vectors of the forward pass (inference passes the running statistics as Mean / InverseStd's slots).</summary>
    internal readonly record struct Statistics(ArrayView<float> Gamma, ArrayView<float> Beta, ArrayView<float> RunningMean,
        ArrayView<float> RunningVar, ArrayView<float> Mean, ArrayView<float> InverseStd, float Momentum, float Epsilon);

    /// <summary>The per-channel vectors of the backward pass.</summary>
    internal readonly record struct Gradients(ArrayView<float> Gamma, ArrayView<float> Mean, ArrayView<float> InverseStd,
        ArrayView<float> DGamma, ArrayView<float> DBeta);
}
