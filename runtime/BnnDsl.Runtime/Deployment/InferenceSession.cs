// Runs a packed model's plan with the CPU kernels on batches of up to a fixed size, with buffers allocated once.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// The interpreter: executes <see cref="PackedModel.Steps"/> in order on up to <see cref="PackedRunner.BatchSize"/>
/// samples at a time (chunks, lanes, Predict and Classify: <see cref="PackedRunner"/>). Step outputs live in buffers sized once for the batch size: a buffer is
/// reused by a later step once every step reading it has run (a residual block's input stays until its add), so
/// the working set stays small; with <c>keepStepOutputs</c> every step keeps its own buffer, for
/// <see cref="StepBits"/> and <see cref="StepFloats"/>. Binary convolution plans are built on the first call with a
/// given chunk size and kept, so repeated calls allocate nothing. A chunk with enough samples (at least
/// <see cref="PackedRunner.LaneSamples"/> per core for a small network, down to one per core for a network of
/// <see cref="PackedRunner.LaneMacs"/> multiply-accumulates per sample or more) is split into lanes, one per core.
/// A session is not thread-safe: use one per thread (or <see cref="PackedModel.Predict"/>,
/// which pools them).
/// </summary>
public sealed unsafe class InferenceSession : PackedRunner, IPackedStepOutputs
{
    private readonly PlanStep[] steps;
    private readonly float[][] floatBuffers;
    private readonly ulong[][] bitBuffers;
    private readonly int[] floatBufferOf, bitBufferOf;
    private readonly int[] floatStride, bitStride;
    private readonly BinaryConv2dPlan?[][] convPlans;
    private readonly ulong[][] convScratch;
    private readonly float[][] floatScratch;
    private readonly ulong[][] planeScratch;
    private readonly bool keepStepOutputs;
    private readonly KernelPath path;
    private int lastCount;

    internal InferenceSession(PackedModel model, int batchSize, KernelPath path, int threads, bool keepStepOutputs)
        : base(model, batchSize, threads)
    {
        this.path = KernelDispatch.Resolve(path);
        this.keepStepOutputs = keepStepOutputs;
        steps = [.. model.Steps];
        int lanes = Lanes;
        int[] laneBatch = [.. Enumerable.Range(0, lanes).Select(LaneCapacity)];
        (floatBufferOf, floatStride) = AssignBuffers(steps, s => s.OutputFloats, s => (int)s.Output.Elements, keepStepOutputs);
        (bitBufferOf, bitStride) = AssignBuffers(steps, s => s.HasBits, s => PackedPlan.Words(s.Output), keepStepOutputs);
        floatBuffers = [.. floatStride.Select(stride => GC.AllocateArray<float>(batchSize * stride, pinned: true))];
        bitBuffers = [.. bitStride.Select(stride => GC.AllocateArray<ulong>(batchSize * stride, pinned: true))];
        convPlans = new BinaryConv2dPlan?[steps.Length][];
        var scratch = new int[lanes];
        var floatLength = new int[lanes];
        var planeLength = new int[lanes];
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            convPlans[i] = [];
            if (step.Op == PlanOp.XnorConv)
            {
                convPlans[i] = new BinaryConv2dPlan?[batchSize + 1];
                for (int lane = 0; lane < lanes; lane++)
                    scratch[lane] = Math.Max(scratch[lane], BinaryConv2d.ScratchLength(PlanShapes.Conv(step, laneBatch[lane])));
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

    /// <summary>
    /// Gives each step that writes (<paramref name="writes"/>) a buffer: a free one (every reader of its last
    /// occupant has run) or a new one; the last step and, with <paramref name="keep"/>, every step gets its own.
    /// A buffer's stride is the largest per-sample length of its occupants; a lane's samples start at
    /// <c>start × stride</c>, so lanes never share a buffer's region even when occupants differ in size.
    /// </summary>
    internal static (int[] BufferOf, int[] Stride) AssignBuffers(PlanStep[] steps, Func<PlanStep, bool> writes, Func<PlanStep, int> length, bool keep)
    {
        var lastUse = new int[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            lastUse[i] = i;
            if (steps[i].Source >= 0)
                lastUse[steps[i].Source] = i;
            if (steps[i].Op == PlanOp.Add && steps[i].Shortcut >= 0)
                lastUse[steps[i].Shortcut] = i;
        }
        var bufferOf = new int[steps.Length];
        var strides = new List<int>();
        var occupant = new List<int>();
        for (int i = 0; i < steps.Length; i++)
        {
            bufferOf[i] = -1;
            if (!writes(steps[i]))
                continue;
            int buffer = -1;
            if (!keep && i < steps.Length - 1)
                for (int b = 0; b < occupant.Count && buffer < 0; b++)
                    if (lastUse[occupant[b]] < i && occupant[b] != steps.Length - 1)
                        buffer = b;
            if (buffer < 0)
            {
                strides.Add(0);
                occupant.Add(i);
                buffer = strides.Count - 1;
            }
            occupant[buffer] = i;
            strides[buffer] = Math.Max(strides[buffer], length(steps[i]));
            bufferOf[i] = buffer;
        }
        return (bufferOf, [.. strides]);
    }

    /// <summary>
    /// The packed bits step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a float
    /// step). Needs a session created with <c>keepStepOutputs</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session reuses its buffers (created without keepStepOutputs).</exception>
    public ReadOnlySpan<ulong> StepBits(int step)
    {
        CheckKept();
        return steps[step].HasBits ? bitBuffers[bitBufferOf[step]].AsSpan(0, lastCount * PackedPlan.Words(steps[step].Output)) : default;
    }

    /// <summary>
    /// The floats step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a bit step).
    /// Needs a session created with <c>keepStepOutputs</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session reuses its buffers (created without keepStepOutputs).</exception>
    public ReadOnlySpan<float> StepFloats(int step)
    {
        CheckKept();
        return steps[step].OutputFloats ? floatBuffers[floatBufferOf[step]].AsSpan(0, lastCount * (int)steps[step].Output.Elements) : default;
    }

    private void CheckKept()
    {
        if (!keepStepOutputs)
            throw new InvalidOperationException("This session reuses step buffers, so earlier steps' outputs are gone; create it with keepStepOutputs: true to read them.");
    }

    /// <inheritdoc/>
    /// <remarks>The last step's buffer is its own, so its samples lie contiguously.</remarks>
    protected override ReadOnlySpan<float> ChunkLogits(int count) =>
        floatBuffers[floatBufferOf[^1]].AsSpan(0, count * Model.OutputLength);

    /// <inheritdoc/>
    private protected override void BeginChunk(int count) => lastCount = count;

    /// <inheritdoc/>
    protected override void RunLane(ReadOnlySpan<float> input, int start, int count, int lane, int threads)
    {
        fixed (float* inputPtr = input)
            RunSteps(inputPtr, start, count, lane, threads);
    }

    /// <summary>Runs every step on samples [start, start + count) of the chunk; <paramref name="input"/> points at sample start.</summary>
    private void RunSteps(float* input, int start, int count, int lane, int laneThreads)
    {
        var data = Model.Data;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var d = data[i];
            var inShape = step.Input;
            int inElements = (int)inShape.Elements, inWords = PackedPlan.Words(inShape);
            int outElements = (int)step.Output.Elements, outWords = PackedPlan.Words(step.Output);
            var outFloats = step.OutputFloats ? new Span<float>(FloatsAt(i, start), count * outElements) : default;
            var outBits = step.HasBits ? new Span<ulong>(BitsAt(i, start), count * outWords) : default;
            var inFloats = step.InputBits ? default : Floats(step.Source, input, start, count);
            var inBits = step.InputBits ? new ReadOnlySpan<ulong>(BitsAt(step.Source, start), count * inWords) : default;
            switch (step.Op)
            {
                case PlanOp.Sign:
                    PackedOps.Sign(inFloats, step.Output.Rank == 3 ? count * inShape.Height * inShape.Width : count, step.Output.Channels, outBits, path);
                    break;
                case PlanOp.Unpack:
                    PackedOps.Unpack(inBits, PlanShapes.Rows(step.Output, count), step.Output.Channels, outFloats);
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
                    PackedOps.MaxPool(PlanShapes.Pool(step, count), inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.AvgPool:
                    PackedOps.AvgPool(PlanShapes.Pool(step, count), inFloats, outFloats, path, laneThreads);
                    break;
                case PlanOp.GlobalAvgPool:
                    PackedOps.GlobalAvgPool(count, inShape.Height, inShape.Width, inShape.Channels, inFloats, outFloats);
                    break;
                case PlanOp.ReLU:
                    PackedOps.ReLU(inFloats, outFloats, laneThreads);
                    break;
                case PlanOp.PackedMaxPool:
                    PackedOps.PackedMaxPool(inBits, PlanShapes.Pool(step, count), outBits, path, laneThreads);
                    break;
                case PlanOp.XnorConv:
                {
                    // plans hold no buffers, so lanes share them; two lanes creating the same one at once is harmless
                    var plan = convPlans[i][count] ??= new BinaryConv2dPlan(PlanShapes.Conv(step, count), d.ConvWeights!,
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
        int elements = source < 0 ? Model.InputLength : (int)steps[source].Output.Elements;
        return new(source < 0 ? input : FloatsAt(source, start), count * elements);
    }

    /// <summary>Where step <paramref name="step"/>'s floats for sample <paramref name="start"/> of the chunk lie.</summary>
    private float* FloatsAt(int step, int start)
    {
        int buffer = floatBufferOf[step];
        return Address(floatBuffers[buffer]) + (long)start * floatStride[buffer];
    }

    /// <summary>Where step <paramref name="step"/>'s bits for sample <paramref name="start"/> of the chunk lie.</summary>
    private ulong* BitsAt(int step, int start)
    {
        int buffer = bitBufferOf[step];
        return Address(bitBuffers[buffer]) + (long)start * bitStride[buffer];
    }

    /// <summary>The address of a step buffer (allocated on the pinned object heap, so it never moves).</summary>
    private static T* Address<T>(T[] buffer) where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
}
