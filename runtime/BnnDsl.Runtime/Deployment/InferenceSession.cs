// Runs a packed model's plan with the CPU kernels on batches of up to a fixed size, with buffers allocated once.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// The interpreter: executes <see cref="PackedModel.Steps"/> in order on up to <see cref="BatchSize"/> samples at
/// a time (more run in chunks). Every step writes its own buffer, sized once for <see cref="BatchSize"/>; binary
/// convolution plans are built on the first call with a given chunk size and kept, so repeated calls allocate
/// nothing. A session is not thread-safe: use one per thread (or <see cref="PackedModel.Predict"/>, which pools them).
/// </summary>
public sealed unsafe class InferenceSession
{
    private readonly PackedModel model;
    private readonly PlanStep[] steps;
    private readonly float[][] floats;
    private readonly ulong[][] bits;
    private readonly BinaryConv2dPlan?[][] convPlans;
    private readonly ulong[] convScratch;
    private readonly float[] unpacked;
    private readonly float[] ones, zeros;
    private readonly float[] logits;
    private readonly KernelPath path;
    private readonly int threads;
    private int lastCount;

    internal InferenceSession(PackedModel model, int batchSize, KernelPath path, int threads)
    {
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1; pass the most samples one call should run at once.");
        this.model = model;
        this.path = KernelDispatch.Resolve(path);
        this.threads = threads;
        BatchSize = batchSize;
        steps = [.. model.Steps];
        floats = new float[steps.Length][];
        bits = new ulong[steps.Length][];
        convPlans = new BinaryConv2dPlan?[steps.Length][];
        int scratch = 0, unpack = 0, widest = 1;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            floats[i] = step.OutputBits ? [] : GC.AllocateArray<float>((int)(batchSize * step.Output.Elements), pinned: true);
            bits[i] = step.OutputBits ? new ulong[batchSize * ModelPlanner.Words(step.Output)] : [];
            convPlans[i] = [];
            if (step.Op == PlanOp.XnorConv)
            {
                convPlans[i] = new BinaryConv2dPlan?[batchSize + 1];
                scratch = Math.Max(scratch, BinaryConv2d.ScratchLength(ConvShape(step, batchSize)));
            }
            if (step.Op == PlanOp.BitsDense)
                unpack = Math.Max(unpack, batchSize * (int)step.Input.Elements);
            if (step.Spec is { } layer)
                widest = Math.Max(widest, layer.Units);
        }
        convScratch = new ulong[scratch];
        unpacked = new float[unpack];
        ones = new float[widest];
        ones.AsSpan().Fill(1f);
        zeros = new float[widest];
        logits = new float[batchSize * model.OutputLength];
    }

    /// <summary>The most samples one pass of the plan runs.</summary>
    public int BatchSize { get; }

    /// <summary>The model this session runs.</summary>
    public PackedModel Model => model;

    /// <summary>
    /// Writes the logits of <paramref name="count"/> samples (<paramref name="input"/>: exactly count ×
    /// <see cref="PackedModel.InputLength"/> floats, NHWC) to <paramref name="logits"/> (at least count ×
    /// <see cref="PackedModel.OutputLength"/> floats).
    /// </summary>
    public void Predict(ReadOnlySpan<float> input, int count, Span<float> logits)
    {
        CheckInput(input, count);
        int classes = model.OutputLength;
        if (logits.Length < (long)count * classes)
            throw new ArgumentException(
                $"logits holds {logits.Length} floats but {count} samples of {classes} classes need {(long)count * classes}; pass a larger span.", nameof(logits));
        for (int first = 0; first < count; first += BatchSize)
        {
            int chunk = Math.Min(BatchSize, count - first);
            Run(input.Slice(first * model.InputLength, chunk * model.InputLength), chunk);
            floats[^1].AsSpan(0, chunk * classes).CopyTo(logits.Slice(first * classes, chunk * classes));
        }
    }

    /// <summary>Writes the predicted class (index of the largest logit, the first on ties) of each of <paramref name="count"/> samples.</summary>
    public void Classify(ReadOnlySpan<float> input, int count, Span<int> classes)
    {
        CheckInput(input, count);
        if (classes.Length < count)
            throw new ArgumentException($"classes holds {classes.Length} ints but {count} samples need {count}; pass a larger span.", nameof(classes));
        int outputs = model.OutputLength;
        for (int first = 0; first < count; first += BatchSize)
        {
            int chunk = Math.Min(BatchSize, count - first);
            Run(input.Slice(first * model.InputLength, chunk * model.InputLength), chunk);
            var values = floats[^1].AsSpan(0, chunk * outputs);
            for (int s = 0; s < chunk; s++)
            {
                var row = values.Slice(s * outputs, outputs);
                int best = 0;
                for (int j = 1; j < outputs; j++)
                    if (row[j] > row[best])
                        best = j;
                classes[first + s] = best;
            }
        }
    }

    /// <summary>The predicted classes of <paramref name="count"/> samples, as a new array.</summary>
    public int[] Classify(ReadOnlySpan<float> input, int count)
    {
        var classes = new int[Math.Max(0, count)];
        Classify(input, count, classes);
        return classes;
    }

    /// <summary>The packed bits step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a float step).</summary>
    public ReadOnlySpan<ulong> StepBits(int step) =>
        bits[step].AsSpan(0, steps[step].OutputBits ? lastCount * ModelPlanner.Words(steps[step].Output) : 0);

    /// <summary>The floats step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a bit step).</summary>
    public ReadOnlySpan<float> StepFloats(int step) =>
        floats[step].AsSpan(0, steps[step].OutputBits ? 0 : lastCount * (int)steps[step].Output.Elements);

    private void CheckInput(ReadOnlySpan<float> input, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var shape = model.Network.Input;
        if (input.Length != (long)count * model.InputLength)
            throw new ArgumentException(
                $"Model '{model.Network.Name}' takes samples of {shape} (channels x height x width) = {model.InputLength} floats, NHWC, "
                + $"so {count} samples need {(long)count * model.InputLength} floats, but the input holds {input.Length}; "
                + "pass exactly count samples of that size.", nameof(input));
    }

    private void Run(ReadOnlySpan<float> input, int count)
    {
        lastCount = count;
        fixed (float* inputPtr = input)
        {
            var data = model.Data;
            float* previousFloats = inputPtr;
            ulong[] previousBits = [];
            for (int i = 0; i < steps.Length; i++)
            {
                var step = steps[i];
                var d = data[i];
                var inShape = step.Input;
                int inElements = (int)inShape.Elements;
                var outFloats = floats[i];
                var outBits = bits[i];
                // the planner puts a float-reading step only after a float-writing one (or first)
                var inFloats = i > 0 && steps[i - 1].OutputBits ? default : new ReadOnlySpan<float>(previousFloats, count * inElements);
                switch (step.Op)
                {
                    case PlanOp.Sign:
                    {
                        int rows = step.Output.Rank == 3 ? count * inShape.Height * inShape.Width : count;
                        SignPacking.Pack(inFloats, rows, step.Output.Channels, outBits, path);
                        break;
                    }
                    case PlanOp.Unpack:
                        Unpack(previousBits, count, step.Output, outFloats);
                        break;
                    case PlanOp.Repack:
                        Repack(previousBits, count, inShape, outBits);
                        break;
                    case PlanOp.FloatConv:
                        FloatConv(step, d, previousFloats, count, outFloats, outBits);
                        break;
                    case PlanOp.FloatDense:
                        Dense(step, d, inFloats, count, outFloats);
                        break;
                    case PlanOp.BitsDense:
                        Unpack(previousBits, count, step.Input, unpacked);
                        Dense(step, d, unpacked.AsSpan(0, count * inElements), count, outFloats);
                        break;
                    case PlanOp.Affine:
                        Affine(inFloats, d.Scale!, d.Shift!, outFloats);
                        break;
                    case PlanOp.MaxPool:
                        FloatPooling.MaxPool(PoolShape(step, count), inFloats, outFloats, path, threads);
                        break;
                    case PlanOp.AvgPool:
                        FloatPooling.AvgPool(PoolShape(step, count), inFloats, outFloats, path, threads);
                        break;
                    case PlanOp.GlobalAvgPool:
                        FloatPooling.GlobalAvgPool(count, inShape.Height, inShape.Width, inShape.Channels, inFloats, outFloats, path, threads);
                        break;
                    case PlanOp.ReLU:
                        Elementwise.Relu(inFloats, outFloats.AsSpan(0, inFloats.Length), threads);
                        break;
                    case PlanOp.PackedMaxPool:
                        PackedMaxPool.Forward(previousBits.AsSpan(0, count * ModelPlanner.Words(inShape)), PoolShape(step, count), outBits, path, threads);
                        break;
                    case PlanOp.XnorConv:
                    {
                        var plan = convPlans[i][count] ??= new BinaryConv2dPlan(ConvShape(step, count), d.ConvWeights!,
                            step.Spec!.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One);
                        var input2 = previousBits.AsSpan(0, count * ModelPlanner.Words(inShape));
                        int filters = step.Spec!.Units;
                        if (step.OutputBits)
                            BinaryConv2d.Forward(input2, plan, convScratch, XnorOutput.Threshold(outBits, SignPacking.WordsFor(filters), d.Threshold), path, threads);
                        else
                            BinaryConv2d.Forward(input2, plan, convScratch,
                                XnorOutput.ScaleBias(outFloats, filters, ones.AsSpan(0, filters), zeros.AsSpan(0, filters)), path, threads);
                        break;
                    }
                    case PlanOp.XnorDense:
                    {
                        int words = SignPacking.WordsFor(inElements), units = step.Spec!.Units;
                        var input2 = previousBits.AsSpan(0, count * words);
                        var output = step.OutputBits
                            ? XnorOutput.Threshold(outBits, SignPacking.WordsFor(units), d.Threshold)
                            : XnorOutput.ScaleBias(outFloats, units, ones.AsSpan(0, units), zeros.AsSpan(0, units));
                        XnorGemm.Multiply(input2, count, words, d.DenseWeights!, output, default, path, threads);
                        break;
                    }
                }
                if (step.OutputBits)
                    previousBits = outBits;
                else
                    previousFloats = Pin(outFloats);
            }
        }
    }

    /// <summary>The address of a step's float buffer (allocated on the pinned object heap, so it never moves).</summary>
    private static float* Pin(float[] buffer) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));

    private void FloatConv(PlanStep step, StepData d, float* input, int count, float[] outFloats, ulong[] outBits)
    {
        var image = ConvShape(step, 1);
        bool direct = FloatConvBlock.SupportsDirect(image, path);
        fixed (float* weight = d.Weight)
        fixed (float* weightT = direct ? d.WeightT : null)
        fixed (int* offsets = direct ? d.Offsets : null)
        fixed (float* bias = d.Bias)
        fixed (float* scale = d.Scale)
        fixed (float* shift = d.Shift)
        fixed (float* output = outFloats)
        fixed (ulong* outputBits = outBits)
        {
            var job = new FloatConvBlock
            {
                Image = image, Input = input, Weight = weight, WeightT = weightT, Offsets = offsets, Bias = bias, Scale = scale, Shift = shift,
                OutputFloats = output, OutputBits = step.OutputBits ? outputBits : null,
                PoolKernel = step.PoolKernel, PoolStride = step.PoolStride,
                OutputHeight = step.Output.Height, OutputWidth = step.Output.Width, Path = path,
            };
            int cores = threads <= 0 ? KernelParallel.MaxThreads : Math.Min(threads, KernelParallel.MaxThreads);
            job.Parts = direct && count < cores ? Math.Min(step.Output.Height, (cores + count - 1) / count) : 1;
            KernelParallel.For(count * job.Parts, threads, ref job);
        }
    }

    private void Dense(PlanStep step, StepData d, ReadOnlySpan<float> input, int count, float[] output)
    {
        int inputs = (int)step.Input.Elements, units = step.Spec!.Units;
        float beta = 0f;
        if (d.Bias is not null)
        {
            for (int s = 0; s < count; s++)
                d.Bias.CopyTo(output.AsSpan(s * units, units));
            beta = 1f;
        }
        // y (count × units) = x (count × inputs) · Wᵀ, as the training DenseLayer computes it
        Sgemm.Multiply(false, true, count, units, inputs, 1f, input, inputs, d.Weight, inputs, beta, output, units, path, threads);
    }

    private static void Affine(ReadOnlySpan<float> input, float[] scale, float[] shift, float[] output)
    {
        int channels = scale.Length;
        for (int i = 0; i < input.Length; i++)
        {
            int c = i % channels;
            output[i] = input[i] * scale[c] + shift[c];
        }
    }

    /// <summary>Bits of <paramref name="shape"/> (packed per position) to ±1 floats.</summary>
    private static void Unpack(ulong[] source, int count, TensorShape shape, float[] output)
    {
        int channels = shape.Channels, rows = shape.Rank == 3 ? count * shape.Height * shape.Width : count;
        int words = SignPacking.WordsFor(channels);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < channels; c++)
                output[r * channels + c] = ((source[r * words + (c >> 6)] >> (c & 63)) & 1) == 0 ? 1f : -1f;
    }

    /// <summary>Bits packed per position ([positions][words(C)]) to one flat packed vector per sample.</summary>
    private static void Repack(ulong[] source, int count, TensorShape shape, ulong[] output)
    {
        int channels = shape.Channels, positions = shape.Height * shape.Width, words = SignPacking.WordsFor(channels);
        int flatWords = SignPacking.WordsFor(positions * channels);
        for (int s = 0; s < count; s++)
        {
            var flat = output.AsSpan(s * flatWords, flatWords);
            flat.Clear();
            for (int p = 0; p < positions; p++)
                for (int c = 0; c < channels; c++)
                {
                    ulong bit = (source[(s * positions + p) * words + (c >> 6)] >> (c & 63)) & 1;
                    int index = p * channels + c;
                    flat[index >> 6] |= bit << (index & 63);
                }
        }
    }

    private static Conv2dShape ConvShape(PlanStep step, int batch)
    {
        var layer = step.Spec!;
        var input = layer.InputShape;
        return new Conv2dShape(batch, input.Height, input.Width, input.Channels, layer.Units,
            layer.Kernel, layer.Kernel, layer.Stride, layer.Stride, layer.Pad, layer.Pad);
    }

    private static Pool2dShape PoolShape(PlanStep step, int batch) =>
        new(batch, step.Input.Height, step.Input.Width, step.Input.Channels, step.PoolKernel, step.PoolKernel, step.PoolStride, step.PoolStride, 0, 0);
}
