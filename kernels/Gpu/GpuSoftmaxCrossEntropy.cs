// The classification loss on the accelerator: softmax of the logits, mean cross-entropy against labels, its gradient.
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Kernels.Gpu;

/// <summary>
/// The runtime's <c>SoftmaxCrossEntropy</c>: <c>loss = (1 / batch) Σ_b (log Σ_j exp(z_j − max) − (z_label − max))</c>,
/// the probabilities kept for <see cref="Backward"/>, which writes <c>dLogits = (p − onehot(label)) / batch</c>.
/// <see cref="Forward"/> runs one group of <see cref="GroupSize"/> threads: each thread takes rows b, b + GroupSize, ...
/// (exp sums in double as on the CPU), then the group adds the row losses (double) and the correct predictions
/// (largest logit, first on ties) in shared memory into <c>loss[0]</c> and <c>correct[0]</c>. Only the order of that
/// final sum differs from the CPU's. Labels are not checked on the device: pass labels in 0..classes − 1.
/// </summary>
public static class GpuSoftmaxCrossEntropy
{
    /// <summary>Threads of the forward group (a power of two).</summary>
    public const int GroupSize = 256;

    /// <summary>Writes <paramref name="probabilities"/> (<c>batch · classes</c>), the mean loss into <c>loss[0]</c> and the correct count into <c>correct[0]</c>.</summary>
    public static void Forward(GpuDevice device, ArrayView<float> logits, ArrayView<int> labels, int batch, int classes,
        ArrayView<float> probabilities, ArrayView<float> loss, ArrayView<int> correct)
    {
        Check(device, batch, classes, labels, probabilities);
        GpuChecks.Length(logits, (long)batch * classes, nameof(logits), "batch * classes");
        GpuChecks.Length(loss, 1, nameof(loss), "one float");
        GpuChecks.Length(correct, 1, nameof(correct), "one int");
        var kernel = device.Kernel("softmax-cross-entropy", typeof(float), a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>>(ForwardKernel));
        kernel(new KernelConfig(1, GroupSize), logits, labels, batch, classes, probabilities, loss, correct);
    }

    /// <summary>Writes <c>dLogits = (p − onehot(label)) / batch</c> from the probabilities of <see cref="Forward"/>.</summary>
    public static void Backward(GpuDevice device, ArrayView<float> probabilities, ArrayView<int> labels, int batch, int classes,
        ArrayView<float> dLogits)
    {
        Check(device, batch, classes, labels, probabilities);
        GpuChecks.Length(dLogits, (long)batch * classes, nameof(dLogits), "batch * classes");
        device.Kernel("softmax-cross-entropy-backward", typeof(float), a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>>(BackwardKernel))(
            batch * classes, probabilities, labels, batch, classes, dLogits);
    }

    private static void Check(GpuDevice device, int batch, int classes, ArrayView<int> labels, ArrayView<float> probabilities)
    {
        GpuChecks.Device(device, nameof(device));
        GpuChecks.Positive(batch, nameof(batch));
        GpuChecks.Positive(classes, nameof(classes));
        GpuChecks.FitsInt((long)batch * classes, "batch * classes");
        GpuChecks.Length(labels, batch, nameof(labels), "one label per row");
        GpuChecks.Length(probabilities, (long)batch * classes, nameof(probabilities), "batch * classes");
    }

    private static void ForwardKernel(ArrayView<float> logits, ArrayView<int> labels, int batch, int classes,
        ArrayView<float> probabilities, ArrayView<float> loss, ArrayView<int> correct)
    {
        var losses = SharedMemory.Allocate<double>(GroupSize);
        var hits = SharedMemory.Allocate<int>(GroupSize);
        int thread = Group.IdxX;
        double total = 0;
        int right = 0;
        for (int b = thread; b < batch; b += GroupSize)
        {
            int row = b * classes, best = 0;
            for (int j = 1; j < classes; j++)
                if (logits[row + j] > logits[row + best])
                    best = j;
            float max = logits[row + best];
            double sum = 0;
            for (int j = 0; j < classes; j++)
            {
                float e = MathF.Exp(logits[row + j] - max);
                probabilities[row + j] = e;
                sum += e;
            }
            float inverse = (float)(1.0 / sum);
            for (int j = 0; j < classes; j++)
                probabilities[row + j] *= inverse;
            int label = labels[b];
            total += Math.Log(sum) - (logits[row + label] - max);
            if (best == label)
                right++;
        }
        losses[thread] = total;
        hits[thread] = right;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (thread < half)
            {
                losses[thread] += losses[thread + half];
                hits[thread] += hits[thread + half];
            }
            Group.Barrier();
        }
        if (thread == 0)
        {
            loss[0] = (float)(losses[0] / batch);
            correct[0] = hits[0];
        }
    }

    private static void BackwardKernel(Index1D index, ArrayView<float> probabilities, ArrayView<int> labels, int batch, int classes,
        ArrayView<float> dLogits)
    {
        int b = index / classes, j = index - b * classes;
        float inverseBatch = 1f / batch, gradient = probabilities[index] * inverseBatch;
        if (labels[b] == j)
            gradient -= inverseBatch;
        dLogits[index] = gradient;
    }
}
