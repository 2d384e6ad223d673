// Runs a packed model's plan with the CPU kernels on batches of up to a fixed size, with buffers allocated once.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;

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
    private readonly float[][] unpacked;
    private readonly float[] ones, zeros;
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
        var unpack = new int[lanes];
        int widest = 1;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            floats[i] = step.OutputBits ? [] : GC.AllocateArray<float>((int)(batchSize * step.Output.Elements), pinned: true);
            bits[i] = step.OutputBits ? GC.AllocateArray<ulong>(batchSize * ModelPlanner.Words(step.Output), pinned: true) : [];
            convPlans[i] = [];
            if (step.Op == PlanOp.XnorConv)
            {
                convPlans[i] = new BinaryConv2dPlan?[batchSize + 1];
                for (int lane = 0; lane < lanes; lane++)
                    scratch[lane] = Math.Max(scratch[lane], BinaryConv2d.ScratchLength(ConvShape(step, laneBatch[lane])));
            }
            if (step.Op == PlanOp.BitsDense)
                for (int lane = 0; lane < lanes; lane++)
                    unpack[lane] = Math.Max(unpack[lane], laneBatch[lane] * (int)step.Input.Elements);
            if (step.Spec is { } layer)
                widest = Math.Max(widest, layer.Units);
        }
        convScratch = new ulong[lanes][];
        unpacked = new float[lanes][];
        for (int lane = 0; lane < lanes; lane++)
        {
            convScratch[lane] = new ulong[scratch[lane]];
            unpacked[lane] = new float[unpack[lane]];
        }
        ones = new float[widest];
        ones.AsSpan().Fill(1f);
        zeros = new float[widest];
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
        float* previousFloats = input;
        ulong* previousBits = null;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var d = data[i];
            var inShape = step.Input;
            int inElements = (int)inShape.Elements, inWords = ModelPlanner.Words(inShape);
            int outElements = (int)step.Output.Elements, outWords = ModelPlanner.Words(step.Output);
            float* outFloatsPtr = step.OutputBits ? null : Address(floats[i]) + (long)start * outElements;
            ulong* outBitsPtr = step.OutputBits ? Address(bits[i]) + (long)start * outWords : null;
            var outFloats = step.OutputBits ? default : new Span<float>(outFloatsPtr, count * outElements);
            var outBits = step.OutputBits ? new Span<ulong>(outBitsPtr, count * outWords) : default;
            // the planner puts a float-reading step only after a float-writing one (or first), a bit-reading one after a bit-writing one
            bool bitsIn = i > 0 && steps[i - 1].OutputBits;
            var inFloats = bitsIn ? default : new ReadOnlySpan<float>(previousFloats, count * inElements);
            var inBits = bitsIn ? new ReadOnlySpan<ulong>(previousBits, count * inWords) : default;
            switch (step.Op)
            {
                case PlanOp.Sign:
                {
                    int rows = step.Output.Rank == 3 ? count * inShape.Height * inShape.Width : count;
                    SignPacking.Pack(inFloats, rows, step.Output.Channels, outBits, path);
                    break;
                }
                case PlanOp.Unpack:
                    Unpack(inBits, count, step.Output, outFloats);
                    break;
                case PlanOp.Repack:
                    Repack(inBits, count, inShape, outBits);
                    break;
                case PlanOp.FloatConv:
                    FloatConv(step, d, previousFloats, count, outFloatsPtr, outBitsPtr, laneThreads);
                    break;
                case PlanOp.FloatDense:
                    Dense(d, inFloats, count, inElements, step.Spec!.Units, outFloats, laneThreads);
                    break;
                case PlanOp.BitsDense:
                {
                    var values = unpacked[lane].AsSpan(0, count * inElements);
                    Unpack(inBits, count, inShape, values);
                    Dense(d, values, count, inElements, step.Spec!.Units, outFloats, laneThreads);
                    break;
                }
                case PlanOp.Affine:
                    Affine(inFloats, d.Scale!, d.Shift!, outFloats);
                    break;
                case PlanOp.MaxPool:
                    FloatPooling.MaxPool(PoolShape(step, count), inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.AvgPool:
                    FloatPooling.AvgPool(PoolShape(step, count), inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.GlobalAvgPool:
                    FloatPooling.GlobalAvgPool(count, inShape.Height, inShape.Width, inShape.Channels, inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.ReLU:
                    Elementwise.Relu(inFloats, outFloats, laneThreads);
                    break;
                case PlanOp.PackedMaxPool:
                    PackedMaxPool.Forward(inBits, PoolShape(step, count), outBits, path, laneThreads);
                    break;
                case PlanOp.XnorConv:
                {
                    // plans hold no buffers, so lanes share them; two lanes creating the same one at once is harmless
                    var plan = convPlans[i][count] ??= new BinaryConv2dPlan(ConvShape(step, count), d.ConvWeights!,
                        step.Spec!.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One);
                    int filters = step.Spec!.Units;
                    var output = step.OutputBits
                        ? XnorOutput.Threshold(outBits, SignPacking.WordsFor(filters), d.Threshold)
                        : XnorOutput.ScaleBias(outFloats, filters, ones.AsSpan(0, filters), zeros.AsSpan(0, filters));
                    BinaryConv2d.Forward(inBits, plan, convScratch[lane], output, path, laneThreads);
                    break;
                }
                case PlanOp.XnorDense:
                {
                    int units = step.Spec!.Units;
                    var output = step.OutputBits
                        ? XnorOutput.Threshold(outBits, SignPacking.WordsFor(units), d.Threshold)
                        : XnorOutput.ScaleBias(outFloats, units, ones.AsSpan(0, units), zeros.AsSpan(0, units));
                    XnorGemm.Multiply(inBits, count, inWords, d.DenseWeights!, output, default, path, laneThreads);
                    break;
                }
            }
            if (step.OutputBits)
                previousBits = outBitsPtr;
            else
                previousFloats = outFloatsPtr;
        }
    }

    /// <summary>The address of a step buffer (allocated on the pinned object heap, so it never moves).</summary>
    private static T* Address<T>(T[] buffer) where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));

    private void FloatConv(PlanStep step, StepData d, float* input, int count, float* outFloats, ulong* outBits, int laneThreads)
    {
        var image = ConvShape(step, 1);
        bool direct = FloatConvBlock.SupportsDirect(image, path);
        fixed (float* weight = d.Weight)
        fixed (float* weightT = direct ? d.WeightT : null)
        fixed (int* offsets = direct ? d.Offsets : null)
        fixed (float* bias = d.Bias)
        fixed (float* scale = d.Scale)
        fixed (float* shift = d.Shift)
        {
            var job = new FloatConvBlock
            {
                Image = image, Input = input, Weight = weight, WeightT = weightT, Offsets = offsets, Bias = bias,
                Scale = scale, Shift = shift, OutputFloats = outFloats, OutputBits = outBits,
                PoolKernel = step.PoolKernel, PoolStride = step.PoolStride,
                OutputHeight = step.Output.Height, OutputWidth = step.Output.Width, Path = path,
            };
            int cores = laneThreads <= 0 ? KernelParallel.MaxThreads : Math.Min(laneThreads, KernelParallel.MaxThreads);
            job.Parts = direct && count < cores ? Math.Min(step.Output.Height, (cores + count - 1) / count) : 1;
            KernelParallel.For(count * job.Parts, laneThreads, ref job);
        }
    }

    private void Dense(StepData d, ReadOnlySpan<float> input, int count, int inputs, int units, Span<float> output, int laneThreads)
    {
        float beta = 0f;
        if (d.Bias is not null)
        {
            for (int s = 0; s < count; s++)
                d.Bias.CopyTo(output.Slice(s * units, units));
            beta = 1f;
        }
        // y (count × units) = x (count × inputs) · Wᵀ, as the training DenseLayer computes it
        Sgemm.Multiply(false, true, count, units, inputs, 1f, input, inputs, d.Weight!, inputs, beta, output, units, path, laneThreads);
    }

    private static void Affine(ReadOnlySpan<float> input, float[] scale, float[] shift, Span<float> output)
    {
        int channels = scale.Length;
        for (int i = 0; i < input.Length; i++)
        {
            int c = i % channels;
            output[i] = input[i] * scale[c] + shift[c];
        }
    }

    /// <summary>Bits of <paramref name="shape"/> (packed per position) to ±1 floats, eight channels per vector step.</summary>
    private static void Unpack(ReadOnlySpan<ulong> source, int count, TensorShape shape, Span<float> output)
    {
        int channels = shape.Channels, rows = shape.Rank == 3 ? count * shape.Height * shape.Width : count;
        int words = SignPacking.WordsFor(channels);
        var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        var plus = Vector256.Create(1f);
        var minus = Vector256.Create(-1f);
        fixed (ulong* src = source)
        fixed (float* dst = output)
            for (int r = 0; r < rows; r++)
            {
                byte* bytes = (byte*)(src + (long)r * words);
                float* row = dst + (long)r * channels;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                {
                    var set = Vector256.Equals(Vector256.Create((int)bytes[c >> 3]) & lanes, lanes).AsSingle();
                    Vector256.ConditionalSelect(set, minus, plus).Store(row + c);
                }
                for (; c < channels; c++)
                    row[c] = ((bytes[c >> 3] >> (c & 7)) & 1) == 0 ? 1f : -1f;
            }
    }

    /// <summary>Bits packed per position ([positions][words(C)]) to one flat packed vector per sample.</summary>
    private static void Repack(ReadOnlySpan<ulong> source, int count, TensorShape shape, Span<ulong> output)
    {
        int channels = shape.Channels, positions = shape.Height * shape.Width, words = SignPacking.WordsFor(channels);
        int flatWords = SignPacking.WordsFor(positions * channels);
        for (int s = 0; s < count; s++)
        {
            var flat = output.Slice(s * flatWords, flatWords);
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
