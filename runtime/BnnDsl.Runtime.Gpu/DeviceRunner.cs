// What the device interpreter and the generated Device classes share: a packed model's weights uploaded once, every step
// buffer on the device, one copy in and one out per chunk, argument checks, Predict and Classify.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Deployment;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// Runs a packed model's steps on a device (<see cref="ComputeDeviceKind.Cuda"/> or <see cref="ComputeDeviceKind.IlgpuCpu"/>):
/// executes <see cref="PackedModel.Steps"/> with <see cref="DeviceOps"/> on up to <see cref="BatchSize"/> samples at a
/// time (larger calls run in chunks). The weights are uploaded once, at construction; step outputs live in device
/// buffers sized once for the batch size and reused as <see cref="InferenceSession"/> reuses its own (a buffer is
/// taken again once every step reading it has run); per chunk only the input goes to the device and only the logits
/// come back. With <c>keepStepOutputs</c> every step keeps its own buffer, and <see cref="StepBits"/> and
/// <see cref="StepFloats"/> download one. Binary steps compute the CPU interpreter's bits exactly; float steps agree
/// with it to rounding. Arguments are checked as <see cref="PackedRunner"/> checks them. Not thread-safe (one device,
/// one caller); dispose it to free its device memory.
/// </summary>
public abstract class DeviceRunner : IPackedPredictor, IChunkRunner, IPackedStepOutputs, IDisposable
{
    private readonly GpuDevice gpu;
    private readonly PlanStep[] steps;
    private readonly DeviceStepWeights[] weights;
    private readonly List<MemoryBuffer> owned = [];
    private readonly ArrayView<float>[] floatBuffers;
    private readonly ArrayView<ulong>[] bitBuffers;
    private readonly int[] floatBufferOf, bitBufferOf;
    private readonly ArrayView<float> inputBuffer, floatScratch;
    private readonly ArrayView<ulong> planeScratch;
    private readonly ArrayView<int> argmaxScratch;
    private readonly float[] logits;
    private readonly bool keepStepOutputs;
    private readonly ulong[] stepBits = [];
    private readonly float[] stepFloats = [];
    private int lastCount;
    private bool disposed;

    /// <summary>
    /// Uploads <paramref name="model"/>'s weights to <paramref name="device"/> and allocates the buffers of
    /// <paramref name="batchSize"/> samples; with <paramref name="keepStepOutputs"/> every step keeps its output (for
    /// <see cref="StepBits"/> and <see cref="StepFloats"/>, at the cost of device memory).
    /// </summary>
    /// <exception cref="ArgumentException">The device is the host CPU (use the model's <see cref="InferenceSession"/>, or <see cref="Predictors.Open"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    private protected DeviceRunner(PackedModel model, ComputeDevice device, int batchSize, bool keepStepOutputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(device);
        PredictorArguments.CheckBatchSize(batchSize);
        if (device.IsHost)
            throw new ArgumentException("The cpu device runs the CPU interpreter, not a device session; use Predictors.Open or model.CreateSession.", nameof(device));
        Model = model;
        Device = device;
        BatchSize = batchSize;
        this.keepStepOutputs = keepStepOutputs;
        gpu = device.Gpu;
        steps = [.. model.Steps];
        try
        {
            weights = [.. steps.Select((step, i) => Upload(step, model.Data[i]))];
            int[] floatStride, bitStride;
            (floatBufferOf, floatStride) = InferenceSession.AssignBuffers(steps, s => s.OutputFloats, s => (int)s.Output.Elements, keepStepOutputs);
            (bitBufferOf, bitStride) = InferenceSession.AssignBuffers(steps, s => s.HasBits, s => PackedPlan.Words(s.Output), keepStepOutputs);
            floatBuffers = [.. floatStride.Select(stride => Allocate<float>((long)batchSize * stride))];
            bitBuffers = [.. bitStride.Select(stride => Allocate<ulong>((long)batchSize * stride))];
            inputBuffer = Allocate<float>((long)batchSize * model.InputLength);
            var (floats, planes, argmax) = ScratchLengths(batchSize);
            floatScratch = Allocate<float>(floats);
            planeScratch = Allocate<ulong>(planes);
            argmaxScratch = Allocate<int>(argmax);
            gpu.Synchronize(); // the uploads are done before the host arrays they read can go
        }
        catch
        {
            Dispose();
            throw;
        }
        logits = new float[batchSize * model.OutputLength];
        if (keepStepOutputs)
        {
            stepFloats = new float[batchSize * steps.Where(s => s.OutputFloats).Select(s => (int)s.Output.Elements).DefaultIfEmpty(0).Max()];
            stepBits = new ulong[batchSize * steps.Where(s => s.HasBits).Select(s => PackedPlan.Words(s.Output)).DefaultIfEmpty(0).Max()];
        }
    }

    /// <summary>The model this runs.</summary>
    public PackedModel Model { get; }

    /// <summary>The most samples one pass of the steps runs.</summary>
    public int BatchSize { get; }

    /// <summary>The device the steps run on.</summary>
    public ComputeDevice Device { get; }

    /// <inheritdoc/>
    public void Predict(ReadOnlySpan<float> input, int count, Span<float> logits) => PredictorArguments.Predict(this, input, count, logits);

    /// <inheritdoc/>
    public void Classify(ReadOnlySpan<float> input, int count, Span<int> classes) => PredictorArguments.Classify(this, input, count, classes);

    /// <inheritdoc/>
    public int[] Classify(ReadOnlySpan<float> input, int count) => PredictorArguments.Classify(this, input, count);

    /// <inheritdoc/>
    ReadOnlySpan<float> IChunkRunner.RunChunk(ReadOnlySpan<float> input, int count, Span<float> logits)
    {
        var output = logits.IsEmpty ? this.logits.AsSpan(0, count * Model.OutputLength) : logits;
        Run(input, count, output);
        return output;
    }

    /// <summary>
    /// Downloads the packed bits step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a
    /// float step); the span stays valid until the next call of this method. Needs a session created with <c>keepStepOutputs</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session reuses its buffers (created without keepStepOutputs).</exception>
    public ReadOnlySpan<ulong> StepBits(int step)
    {
        CheckKept(step);
        if (!steps[step].HasBits)
            return default;
        var host = stepBits.AsSpan(0, lastCount * PackedPlan.Words(steps[step].Output));
        Download(bitBuffers[bitBufferOf[step]], host);
        return host;
    }

    /// <summary>
    /// Downloads the floats step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a bit
    /// step); the span stays valid until the next call of this method. Needs a session created with <c>keepStepOutputs</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session reuses its buffers (created without keepStepOutputs).</exception>
    public ReadOnlySpan<float> StepFloats(int step)
    {
        CheckKept(step);
        if (!steps[step].OutputFloats)
            return default;
        var host = stepFloats.AsSpan(0, lastCount * (int)steps[step].Output.Elements);
        Download(floatBuffers[floatBufferOf[step]], host);
        return host;
    }

    /// <summary>Frees the session's device memory (weights and buffers); the device itself stays open.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var buffer in owned)
            buffer.Dispose();
        owned.Clear();
    }

    private void CheckKept(int step)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!keepStepOutputs)
            throw new InvalidOperationException("This session reuses step buffers, so earlier steps' outputs are gone; create it with keepStepOutputs: true to read them.");
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, steps.Length);
    }

    /// <summary>One chunk: the input up, every step, the logits down.</summary>
    private void Run(ReadOnlySpan<float> input, int count, Span<float> output)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        lastCount = count;
        if (count == 0)
            return;
        var stream = gpu.Accelerator.DefaultStream;
        inputBuffer.SubView(0, input.Length).CopyFromCPU(stream, input);
        RunSteps(count);
        Download(floatBuffers[floatBufferOf[^1]], output[..(count * Model.OutputLength)]);
    }

    private void Download<T>(ArrayView<T> buffer, Span<T> host) where T : unmanaged
    {
        var stream = gpu.Accelerator.DefaultStream;
        buffer.SubView(0, host.Length).CopyToCPU(stream, host);
        stream.Synchronize();
    }

    /// <summary>Runs every step of the plan on the <paramref name="count"/> samples of the chunk now in the input buffer, with <see cref="DeviceOps"/>.</summary>
    protected abstract void RunSteps(int count);

    /// <summary>The ILGPU device the steps launch on.</summary>
    protected GpuDevice Gpu => gpu;

    /// <summary>The tensors of plan step <paramref name="step"/>, uploaded at construction.</summary>
    protected DeviceStepWeights Weights(int step) => weights[step];

    /// <summary>Float scratch of the steps that need it (a sign-packing float convolution's values, BitsDense's unpacked inputs).</summary>
    protected ArrayView<float> FloatScratch => floatScratch;

    /// <summary>Bit-plane scratch of the k-bit steps.</summary>
    protected ArrayView<ulong> PlaneScratch => planeScratch;

    /// <summary>Argmax scratch of the max-pooling steps.</summary>
    protected ArrayView<int> ArgmaxScratch => argmaxScratch;

    /// <summary>The packed bits step <paramref name="step"/> writes (or wrote) for the chunk's <paramref name="count"/> samples.</summary>
    protected ArrayView<ulong> Bits(int step, int count) =>
        bitBuffers[bitBufferOf[step]].SubView(0, (long)count * PackedPlan.Words(steps[step].Output));

    /// <summary>The floats step <paramref name="source"/> (-1: the input) writes (or wrote) for the chunk's <paramref name="count"/> samples.</summary>
    protected ArrayView<float> Floats(int source, int count) => source < 0
        ? inputBuffer.SubView(0, (long)count * Model.InputLength)
        : floatBuffers[floatBufferOf[source]].SubView(0, count * steps[source].Output.Elements);

    /// <summary>Scratch lengths (floats, plane words, argmax ints) the steps need at <paramref name="batch"/> samples; at least 1 each.</summary>
    private (long Floats, long Planes, long Argmax) ScratchLengths(int batch)
    {
        long floats = 1, planes = 1, argmax = 1;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var data = Model.Data[i];
            switch (step.Op)
            {
                case PlanOp.FloatConv when step.OutputBits:
                    floats = Math.Max(floats, (long)batch * step.Output.Elements);
                    break;
                case PlanOp.BitsDense:
                    floats = Math.Max(floats, batch * step.Input.Elements);
                    break;
                case PlanOp.MaxPool:
                    argmax = Math.Max(argmax, batch * step.Output.Elements);
                    break;
                case PlanOp.BitSerialConv:
                    planes = Math.Max(planes, DeviceOps.BitSerialConvPlanesLength(data.BitSerial!.Image, batch, data.BitSerial.ActivationBits));
                    break;
                case PlanOp.BitSerialDense:
                    planes = Math.Max(planes, (long)batch * data.BitSerial!.RowWords);
                    break;
            }
        }
        return (floats, planes, argmax);
    }

    /// <summary>Uploads the tensors step <paramref name="step"/> reads, in the layouts <see cref="DeviceOps"/> takes.</summary>
    private DeviceStepWeights Upload(PlanStep step, PackedStepWeights data)
    {
        var w = new DeviceStepWeights();
        switch (step.Op)
        {
            case PlanOp.FloatConv:
            {
                var conv = data.Conv!;
                int filters = conv.Image.Filters;
                w.Weight = Upload<float>(conv.Weight);
                w.Bias = Upload<float>(conv.Bias ?? new float[filters]);
                w.Scale = Upload<float>(conv.Scale ?? Ones(filters));
                w.Shift = Upload<float>(conv.Shift ?? new float[filters]);
                break;
            }
            case PlanOp.FloatDense or PlanOp.BitsDense:
                w.Weight = Upload<float>(data.Weight);
                w.Bias = Upload<float>(data.Bias);
                break;
            case PlanOp.Affine:
                w.Scale = Upload<float>(data.Scale);
                w.Shift = Upload<float>(data.Shift);
                break;
            case PlanOp.XnorConv or PlanOp.XnorDense:
                w.Packed = Upload(PackedWeight(step));
                if (step.OutputBits)
                {
                    w.Threshold = Upload<int>(data.Threshold);
                }
                else
                {
                    w.Scale = Upload<float>(data.Scale);
                    w.Shift = Upload<float>(data.Shift);
                }
                break;
            case PlanOp.BitSerialConv or PlanOp.BitSerialDense:
                w.Packed = Upload(PackedWeight(step));
                w.Scale = Upload<float>(data.BitSerial!.Scale ?? []);
                w.Shift = Upload<float>(data.BitSerial.Shift ?? []);
                break;
        }
        return w;
    }

    /// <summary>The <c>.packed_weight</c> tensor of <paramref name="step"/>'s layer: XNOR sign rows, or k-bit rows of weight planes.</summary>
    private ReadOnlySpan<ulong> PackedWeight(PlanStep step)
    {
        string name = $"{step.Layer}.packed_weight";
        return Model.Tensors.First(t => t.Name == name).As<ulong>();
    }

    private static float[] Ones(int length)
    {
        var ones = new float[length];
        ones.AsSpan().Fill(1f);
        return ones;
    }

    /// <summary>A device copy of <paramref name="values"/> (an empty view for none), freed with the session.</summary>
    private ArrayView<T> Upload<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (values.IsEmpty)
            return default;
        var view = Allocate<T>(values.Length);
        view.CopyFromCPU(gpu.Accelerator.DefaultStream, values);
        return view;
    }

    private ArrayView<T> Allocate<T>(long length) where T : unmanaged
    {
        var buffer = gpu.Allocate<T>(length);
        owned.Add(buffer);
        return buffer.View;
    }
}
