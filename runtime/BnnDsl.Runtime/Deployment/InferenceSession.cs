// Runs a packed model's plan with the CPU kernels on batches of up to a fixed size, with buffers allocated once.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// The interpreter: executes <see cref="PackedModel.Steps"/> in order on up to <see cref="BatchSize"/> samples at
/// a time (more run in chunks). Every step writes its own buffer, sized once for <see cref="BatchSize"/>; binary
/// convolution plans are built on the first call with a given chunk size and kept, so repeated calls allocate
/// nothing. A chunk of at least <see cref="LaneSamples"/> samples per core is split into contiguous lanes, one per
/// core, each running the whole plan on its samples with single-threaded kernels: one parallel dispatch per call
/// instead of one per step, and each lane's intermediates stay in its core's cache. Smaller chunks run as one lane
/// whose kernels use every core. A session is not thread-safe: use one per thread (or
/// <see cref="PackedModel.Predict"/>, which pools them).
/// </summary>
public sealed unsafe class InferenceSession
{
    /// <summary>Fewest samples per lane: below this a chunk runs as one lane with multi-threaded kernels.</summary>
    public const int LaneSamples = 8;

    private readonly PackedModel model;
    private readonly PlanStep[] steps;
    private readonly float[][] floats;
    private readonly ulong[][] bits;
    private readonly BinaryConv2dPlan?[][] convPlans;
    private readonly ulong[][] convScratch;
    private readonly float[][] floatScratch;
    private readonly ulong[][] planeScratch;
    private readonly int lanes;
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
        int cores = threads <= 0 ? KernelParallel.MaxThreads : Math.Min(threads, KernelParallel.MaxThreads);
        lanes = Math.Max(1, Math.Min(cores, batchSize / LaneSamples));
        // lane 0 alone runs chunks too small to split (up to the whole batch); split chunks give a lane at most half
        int[] laneBatch = [.. Enumerable.Range(0, lanes).Select(lane => lane == 0 ? batchSize : (batchSize + 1) / 2)];
        floats = new float[steps.Length][];
        bits = new ulong[steps.Length][];
        convPlans = new BinaryConv2dPlan?[steps.Length][];
        var scratch = new int[lanes];
        var floatLength = new int[lanes];
        var planeLength = new int[lanes];
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            floats[i] = step.OutputFloats ? GC.AllocateArray<float>((int)(batchSize * step.Output.Elements), pinned: true) : [];
            bits[i] = step.HasBits ? GC.AllocateArray<ulong>(batchSize * PackedPlan.Words(step.Output), pinned: true) : [];
            convPlans[i] = [];
            if (step.Op == PlanOp.XnorConv)
            {
                convPlans[i] = new BinaryConv2dPlan?[batchSize + 1];
                for (int lane = 0; lane < lanes; lane++)
                    scratch[lane] = Math.Max(scratch[lane], BinaryConv2d.ScratchLength(ConvShape(step, laneBatch[lane])));
            }
            for (int lane = 0; lane < lanes; lane++)
            {
                if (step.Op == PlanOp.BitsDense)
                    floatLength[lane] = Math.Max(floatLength[lane], laneBatch[lane] * (int)step.Input.Elements);
                if (model.Data[i].BitSerial is { } weights)
                {
                    if (weights.IsConvolution)
                        floatLength[lane] = Math.Max(floatLength[lane], PackedOps.BitSerialColumnsLength(weights));
                    planeLength[lane] = Math.Max(planeLength[lane], PackedOps.BitSerialPlanesLength(weights, laneBatch[lane]));
                }
            }
        }
        convScratch = new ulong[lanes][];
        floatScratch = new float[lanes][];
        planeScratch = new ulong[lanes][];
        for (int lane = 0; lane < lanes; lane++)
        {
            convScratch[lane] = new ulong[scratch[lane]];
            floatScratch[lane] = new float[floatLength[lane]];
            planeScratch[lane] = new ulong[planeLength[lane]];
        }
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
        bits[step].AsSpan(0, steps[step].HasBits ? lastCount * PackedPlan.Words(steps[step].Output) : 0);

    /// <summary>The floats step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a bit step).</summary>
    public ReadOnlySpan<float> StepFloats(int step) =>
        floats[step].AsSpan(0, steps[step].OutputFloats ? lastCount * (int)steps[step].Output.Elements : 0);

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

    /// <summary>Runs one chunk: as lanes in parallel when it is large enough, else as one lane with parallel kernels.</summary>
    private void Run(ReadOnlySpan<float> input, int count)
    {
        lastCount = count;
        int used = Math.Min(lanes, count / LaneSamples);
        fixed (float* inputPtr = input)
        {
            if (used <= 1)
            {
                RunLane(inputPtr, 0, count, 0, threads);
                return;
            }
            var job = new LaneJob { Session = this, Input = inputPtr, Count = count, Lanes = used };
            KernelParallel.For(used, used, ref job);
        }
    }

    /// <summary>One lane: samples [Count * lane / Lanes, Count * (lane + 1) / Lanes) with single-threaded kernels.</summary>
    private struct LaneJob : IParallelJob
    {
        public InferenceSession Session;
        public float* Input;
        public int Count, Lanes;

        public readonly void Run(int lane)
        {
            int start = (int)((long)Count * lane / Lanes), end = (int)((long)Count * (lane + 1) / Lanes);
            Session.RunLane(Input + (long)start * Session.model.InputLength, start, end - start, lane, 1);
        }
    }

    /// <summary>Runs every step on samples [start, start + count) of the chunk; <paramref name="input"/> points at sample start.</summary>
    private void RunLane(float* input, int start, int count, int lane, int laneThreads)
    {
        var data = model.Data;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var d = data[i];
            var inShape = step.Input;
            int inElements = (int)inShape.Elements, inWords = PackedPlan.Words(inShape);
            int outElements = (int)step.Output.Elements, outWords = PackedPlan.Words(step.Output);
            var outFloats = step.OutputFloats ? new Span<float>(Address(floats[i]) + (long)start * outElements, count * outElements) : default;
            var outBits = step.HasBits ? new Span<ulong>(Address(bits[i]) + (long)start * outWords, count * outWords) : default;
            var inFloats = step.InputBits ? default : Floats(step.Source, input, start, count);
            var inBits = step.InputBits ? new ReadOnlySpan<ulong>(Address(bits[step.Source]) + (long)start * inWords, count * inWords) : default;
            switch (step.Op)
            {
                case PlanOp.Sign:
                    PackedOps.Sign(inFloats, step.Output.Rank == 3 ? count * inShape.Height * inShape.Width : count, step.Output.Channels, outBits, path);
                    break;
                case PlanOp.Unpack:
                    PackedOps.Unpack(inBits, Rows(step.Output, count), step.Output.Channels, outFloats);
                    break;
                case PlanOp.Repack:
                    PackedOps.Repack(inBits, count, inShape.Height * inShape.Width, inShape.Channels, outBits);
                    break;
                case PlanOp.FloatConv:
                    PackedOps.FloatConv(inFloats, count, d.Conv!, step.PoolKernel, step.PoolStride, outFloats, outBits, path, laneThreads);
                    break;
                case PlanOp.FloatDense:
                    PackedOps.FloatDense(inFloats, count, inElements, step.Spec!.Units, d.Weight, d.Bias, outFloats, path, laneThreads);
                    break;
                case PlanOp.BitsDense:
                    PackedOps.BitsDense(inBits, count, inElements, step.Spec!.Units, d.Weight, d.Bias, floatScratch[lane], outFloats, path, laneThreads);
                    break;
                case PlanOp.Affine:
                    PackedOps.Affine(inFloats, d.Scale, d.Shift, outFloats);
                    break;
                case PlanOp.MaxPool:
                    PackedOps.MaxPool(PoolShape(step, count), inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.AvgPool:
                    PackedOps.AvgPool(PoolShape(step, count), inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.GlobalAvgPool:
                    PackedOps.GlobalAvgPool(count, inShape.Height, inShape.Width, inShape.Channels, inFloats, outFloats);
                    break;
                case PlanOp.ReLU:
                    PackedOps.ReLU(inFloats, outFloats, laneThreads);
                    break;
                case PlanOp.PackedMaxPool:
                    PackedOps.PackedMaxPool(inBits, PoolShape(step, count), outBits, path, laneThreads);
                    break;
                case PlanOp.XnorConv:
                {
                    // plans hold no buffers, so lanes share them; two lanes creating the same one at once is harmless
                    var plan = convPlans[i][count] ??= new BinaryConv2dPlan(ConvShape(step, count), d.ConvWeights!,
                        step.Spec!.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One);
                    if (step.OutputBits)
                        PackedOps.XnorConv(inBits, plan, convScratch[lane], d.Threshold, outBits, path, laneThreads);
                    else
                        PackedOps.XnorConv(inBits, plan, convScratch[lane], d.Scale, d.Shift, outFloats, path, laneThreads);
                    break;
                }
                case PlanOp.XnorDense:
                    if (step.OutputBits)
                        PackedOps.XnorDense(inBits, count, d.DenseWeights!, d.Threshold, outBits, path, laneThreads);
                    else
                        PackedOps.XnorDense(inBits, count, d.DenseWeights!, d.Scale, d.Shift, outFloats, path, laneThreads);
                    break;
                case PlanOp.Add:
                    PackedOps.Add(inFloats, Floats(step.Shortcut, input, start, count), outFloats, step.Output.Channels, outBits);
                    break;
                case PlanOp.Quantize:
                    PackedOps.Quantize(inFloats, step.Bits, outFloats);
                    break;
                case PlanOp.BitSerialConv:
                    PackedOps.BitSerialConv(inFloats, count, d.BitSerial!, floatScratch[lane], planeScratch[lane], outFloats, path, laneThreads);
                    break;
                case PlanOp.BitSerialDense:
                    PackedOps.BitSerialDense(inFloats, count, d.BitSerial!, planeScratch[lane], outFloats, path, laneThreads);
                    break;
            }
        }
    }

    /// <summary>The floats step <paramref name="source"/> (-1: the input, which <paramref name="input"/> points at) wrote for samples [start, start + count).</summary>
    private ReadOnlySpan<float> Floats(int source, float* input, int start, int count)
    {
        int elements = source < 0 ? model.InputLength : (int)steps[source].Output.Elements;
        return new(source < 0 ? input : Address(floats[source]) + (long)start * elements, count * elements);
    }

    /// <summary>The address of a step buffer (allocated on the pinned object heap, so it never moves).</summary>
    private static T* Address<T>(T[] buffer) where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));

    /// <summary>Rows of packed channels of <paramref name="count"/> samples of <paramref name="shape"/>: positions for images, samples for vectors.</summary>
    private static int Rows(TensorShape shape, int count) => shape.Rank == 3 ? count * shape.Height * shape.Width : count;

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
