// Batch normalization per channel (channels innermost), training with batch statistics and running averages,
// evaluation with the running statistics, and the training-mode backward pass.
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// Batch normalization (Ioffe and Szegedy 2015) over <c>batch × positions</c> rows of <c>channels</c> floats
/// (NHWC: positions = height × width of a sample, 1 after a dense layer):
/// <c>y = gamma * (x - mean) / sqrt(var + epsilon) + beta</c> per channel. Training uses the batch mean and the
/// biased batch variance, and updates <c>running = (1 - momentum) * running + momentum * batch</c> with the
/// unbiased variance for <c>running_var</c> (as PyTorch); evaluation uses the running statistics. Backward is the
/// training-mode gradient with the statistics of the last training forward pass:
/// <c>dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x̂ * mean(dy * x̂))</c>, <c>dgamma = Σ dy * x̂</c>,
/// <c>dbeta = Σ dy</c>. Sums run over fixed blocks of rows and are added in order, so every run gives the same bits.
/// </summary>
public sealed unsafe class BatchNormLayer : Layer
{
    /// <summary>Rows per block of the statistics sums.</summary>
    private const int BlockRows = 128;

    private readonly Parameter gamma, beta, runningMean, runningVar;
    private readonly Parameter[] parameters;
    private readonly int rows, channels, blocks;
    private readonly float[] partials;
    private readonly float[] mean, inverseStd;
    private readonly float[] scale, shift;
    private readonly float[] dyScale, xScale, gradShift;

    /// <summary>Creates the layer for <paramref name="batch"/> samples of <paramref name="positions"/> × <paramref name="channels"/> floats.</summary>
    public BatchNormLayer(string name, int batch, int positions, int channels, float momentum = 0.1f, float epsilon = 1e-5f,
        KernelPath path = KernelPath.Auto, int threads = 0)
        : base(name, batch, (long)batch * positions * channels, (long)batch * positions * channels, path, threads)
    {
        if (positions <= 0 || channels <= 0)
            throw new ArgumentException($"Layer '{name}': positions ({positions}) and channels ({channels}) must be at least 1.", nameof(positions));
        if (!(momentum >= 0f && momentum <= 1f))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Layer '{name}': momentum must lie in [0, 1].");
        if (!(epsilon > 0f))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Layer '{name}': epsilon must be positive.");
        Positions = positions;
        Channels = channels;
        Momentum = momentum;
        Epsilon = epsilon;
        this.channels = channels;
        rows = batch * positions;
        blocks = (rows + BlockRows - 1) / BlockRows;
        gamma = NewParameter("gamma", [channels], ParameterRole.Scale);
        beta = NewParameter("beta", [channels], ParameterRole.Bias);
        runningMean = NewParameter("running_mean", [channels], ParameterRole.State);
        runningVar = NewParameter("running_var", [channels], ParameterRole.State);
        parameters = [gamma, beta, runningMean, runningVar];
        partials = new float[blocks * 2 * channels];
        mean = new float[channels];
        inverseStd = new float[channels];
        scale = new float[channels];
        shift = new float[channels];
        dyScale = new float[channels];
        xScale = new float[channels];
        gradShift = new float[channels];
        ResetValues();
    }

    /// <summary>Positions per sample (height × width).</summary>
    public int Positions { get; }

    /// <summary>Channels (the innermost dimension).</summary>
    public int Channels { get; }

    /// <summary>Weight of the batch statistics in the running averages.</summary>
    public float Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary><c>{name}.gamma</c> [channels].</summary>
    public Parameter Gamma => gamma;

    /// <summary><c>{name}.beta</c> [channels].</summary>
    public Parameter Beta => beta;

    /// <summary><c>{name}.running_mean</c> [channels].</summary>
    public Parameter RunningMean => runningMean;

    /// <summary><c>{name}.running_var</c> [channels].</summary>
    public Parameter RunningVar => runningVar;

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>gamma 1, beta 0, running mean 0, running variance 1.</summary>
    public override void Initialize(Random rng)
    {
        base.Initialize(rng);
        ResetValues();
    }

    private void ResetValues()
    {
        gamma.Value.AsSpan().Fill(1f);
        beta.Value.AsSpan().Clear();
        runningMean.Value.AsSpan().Clear();
        runningVar.Value.AsSpan().Fill(1f);
    }

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        CheckForward(x, y);
        if (training)
        {
            BatchStatistics(x);
            for (int c = 0; c < channels; c++)
            {
                scale[c] = gamma.Value[c] * inverseStd[c];
                shift[c] = beta.Value[c] - mean[c] * scale[c];
            }
        }
        else
        {
            for (int c = 0; c < channels; c++)
            {
                scale[c] = gamma.Value[c] / MathF.Sqrt(runningVar.Value[c] + Epsilon);
                shift[c] = beta.Value[c] - runningMean.Value[c] * scale[c];
            }
        }
        fixed (float* xPtr = x)
        fixed (float* yPtr = y)
        fixed (float* scalePtr = scale)
        fixed (float* shiftPtr = shift)
        {
            var job = new Job { Kind = JobKind.Affine, X = xPtr, Output = yPtr, A = scalePtr, B = shiftPtr, Rows = rows, Channels = channels };
            KernelParallel.For(blocks, Threads, ref job);
        }
    }

    /// <summary>The training-mode gradient (statistics of the last training forward pass); <paramref name="y"/> is not read.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(x, dy, dx);
        fixed (float* xPtr = x)
        fixed (float* dyPtr = dy)
        fixed (float* partialsPtr = partials)
        fixed (float* meanPtr = mean)
        {
            var job = new Job { Kind = JobKind.GradientSums, X = xPtr, Dy = dyPtr, Output = partialsPtr, A = meanPtr, Rows = rows, Channels = channels };
            KernelParallel.For(blocks, Threads, ref job);
        }
        float n = rows;
        for (int c = 0; c < channels; c++)
        {
            double sumDy = 0, sumDyCentered = 0;
            for (int b = 0; b < blocks; b++)
            {
                sumDy += partials[b * 2 * channels + c];
                sumDyCentered += partials[b * 2 * channels + channels + c];
            }
            float dBeta = (float)sumDy, dGamma = (float)(sumDyCentered * inverseStd[c]);
            beta.Gradient[c] = dBeta;
            gamma.Gradient[c] = dGamma;
            // dx = k * dy + p * x + q with k = gamma * invstd, p = -k * invstd * dGamma / n, q = -k * dBeta / n - p * mean
            float k = gamma.Value[c] * inverseStd[c];
            float p = -k * inverseStd[c] * dGamma / n;
            dyScale[c] = k;
            xScale[c] = p;
            gradShift[c] = -k * dBeta / n - p * mean[c];
        }
        if (dx.IsEmpty)
            return;
        fixed (float* xPtr = x)
        fixed (float* dyPtr = dy)
        fixed (float* dxPtr = dx)
        fixed (float* kPtr = dyScale)
        fixed (float* pPtr = xScale)
        fixed (float* qPtr = gradShift)
        {
            var job = new Job { Kind = JobKind.Gradient, X = xPtr, Dy = dyPtr, Output = dxPtr, A = pPtr, B = qPtr, K = kPtr, Rows = rows, Channels = channels };
            KernelParallel.For(blocks, Threads, ref job);
        }
    }

    /// <summary>Batch mean and inverse standard deviation per channel, and the running statistics update.</summary>
    private void BatchStatistics(ReadOnlySpan<float> x)
    {
        fixed (float* xPtr = x)
        fixed (float* partialsPtr = partials)
        {
            var job = new Job { Kind = JobKind.Moments, X = xPtr, Output = partialsPtr, Rows = rows, Channels = channels };
            KernelParallel.For(blocks, Threads, ref job);
        }
        double n = rows;
        for (int c = 0; c < channels; c++)
        {
            // Sums of (x - x[row 0]) and its square: shifting by a sample keeps the variance free of cancellation.
            double sum = 0, squares = 0;
            for (int b = 0; b < blocks; b++)
            {
                sum += partials[b * 2 * channels + c];
                squares += partials[b * 2 * channels + channels + c];
            }
            double shiftedMean = sum / n;
            double variance = Math.Max(0, squares / n - shiftedMean * shiftedMean);
            double batchMean = x[c] + shiftedMean;
            mean[c] = (float)batchMean;
            inverseStd[c] = (float)(1.0 / Math.Sqrt(variance + Epsilon));
            double unbiased = rows > 1 ? variance * n / (n - 1) : variance;
            runningMean.Value[c] = (float)((1 - Momentum) * runningMean.Value[c] + Momentum * batchMean);
            runningVar.Value[c] = (float)((1 - Momentum) * runningVar.Value[c] + Momentum * unbiased);
        }
    }

    private enum JobKind { Moments, Affine, GradientSums, Gradient }

    /// <summary>One block of <see cref="BlockRows"/> rows of one pass.</summary>
    private struct Job : IParallelJob
    {
        public JobKind Kind;
        public float* X, Dy, Output, A, B, K;
        public int Rows, Channels;

        public readonly void Run(int index)
        {
            int first = index * BlockRows, count = Math.Min(BlockRows, Rows - first), c = Channels;
            long offset = (long)first * c;
            switch (Kind)
            {
                case JobKind.Moments: Moments(X, X + offset, Output + (long)index * 2 * c, count, c); break;
                case JobKind.Affine: Affine(X + offset, Output + offset, A, B, count, c); break;
                case JobKind.GradientSums: GradientSums(X + offset, Dy + offset, A, Output + (long)index * 2 * c, count, c); break;
                default: Gradient(X + offset, Dy + offset, Output + offset, K, A, B, count, c); break;
            }
        }

        /// <summary>sums[ch] = Σ (x - x0), sums[c + ch] = Σ (x - x0)², x0 = the first row of the whole tensor.</summary>
        private static void Moments(float* x0, float* x, float* sums, int count, int c)
        {
            new Span<float>(sums, 2 * c).Clear();
            float* squares = sums + c;
            for (int r = 0; r < count; r++, x += c)
            {
                int ch = 0;
                for (; ch + 8 <= c; ch += 8)
                {
                    var d = Vector256.Load(x + ch) - Vector256.Load(x0 + ch);
                    (Vector256.Load(sums + ch) + d).Store(sums + ch);
                    (Vector256.Load(squares + ch) + d * d).Store(squares + ch);
                }
                for (; ch < c; ch++)
                {
                    float d = x[ch] - x0[ch];
                    sums[ch] += d;
                    squares[ch] += d * d;
                }
            }
        }

        /// <summary>y = a * x + b per channel.</summary>
        private static void Affine(float* x, float* y, float* a, float* b, int count, int c)
        {
            for (int r = 0; r < count; r++, x += c, y += c)
            {
                int ch = 0;
                for (; ch + 8 <= c; ch += 8)
                    (Vector256.Load(x + ch) * Vector256.Load(a + ch) + Vector256.Load(b + ch)).Store(y + ch);
                for (; ch < c; ch++)
                    y[ch] = x[ch] * a[ch] + b[ch];
            }
        }

        /// <summary>sums[ch] = Σ dy, sums[c + ch] = Σ dy * (x - mean).</summary>
        private static void GradientSums(float* x, float* dy, float* mean, float* sums, int count, int c)
        {
            new Span<float>(sums, 2 * c).Clear();
            float* centered = sums + c;
            for (int r = 0; r < count; r++, x += c, dy += c)
            {
                int ch = 0;
                for (; ch + 8 <= c; ch += 8)
                {
                    var g = Vector256.Load(dy + ch);
                    (Vector256.Load(sums + ch) + g).Store(sums + ch);
                    (Vector256.Load(centered + ch) + g * (Vector256.Load(x + ch) - Vector256.Load(mean + ch))).Store(centered + ch);
                }
                for (; ch < c; ch++)
                {
                    sums[ch] += dy[ch];
                    centered[ch] += dy[ch] * (x[ch] - mean[ch]);
                }
            }
        }

        /// <summary>dx = k * dy + p * x + q per channel.</summary>
        private static void Gradient(float* x, float* dy, float* dx, float* k, float* p, float* q, int count, int c)
        {
            for (int r = 0; r < count; r++, x += c, dy += c, dx += c)
            {
                int ch = 0;
                for (; ch + 8 <= c; ch += 8)
                    (Vector256.Load(dy + ch) * Vector256.Load(k + ch) + (Vector256.Load(x + ch) * Vector256.Load(p + ch) + Vector256.Load(q + ch))).Store(dx + ch);
                for (; ch < c; ch++)
                    dx[ch] = dy[ch] * k[ch] + (x[ch] * p[ch] + q[ch]);
            }
        }
    }
}
