// A network trained on a device: the layers of a NetworkSpec with every activation, gradient, parameter and optimizer
// state (Adam's moments or SGD's momentum) in device buffers allocated once; only a batch goes up and the loss and correct count come down per step.
using System.Globalization;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The training twin of a host <see cref="Network"/> on an ILGPU device (CUDA or ILGPU's CPU accelerator), built from
/// the same <see cref="NetworkSpec"/> and batch size with the layer semantics of <see cref="SpecNetwork"/> and the
/// generated code: float Convolution / FullyConnected (im2col + SGEMM), 1-bit QConvolution / QFullyConnected (packed
/// signs, XNOR + popcount forward, straight-through backward), 32-bit Q layers as float ones, BatchNorm, MaxPool, AvgPool,
/// GlobalAvgPool, 1-bit QActivation (sign with the STE clipped at 1), ReLU, Flatten, residual blocks and the softmax
/// cross-entropy head.
/// Parameters carry the host names (<c>conv1.weight</c>, <c>bn1.running_mean</c>, …), so <see cref="Upload"/> and
/// <see cref="Download"/> copy them and the optimizer state (<see cref="Adam"/> or <see cref="SgdMomentum"/>) to and from
/// a host network and optimizer; the weights are not initialized here. <see cref="TrainStep"/> runs forward, loss,
/// backward and one step of that optimizer (the host's update: Adam's bias correction and decoupled decay, or SGD's
/// momentum, Nesterov form and coupled decay; latent weights clipped to [−1, 1]) with one upload of the batch and one
/// small download (loss and correct count). Not thread-safe.
/// </summary>
public sealed class DeviceNetwork : IDisposable
{
    /// <summary>The BatchNorm momentum and epsilon of the host layers SpecNetwork and the generator construct.</summary>
    private const float BatchNormMomentum = 0.1f, BatchNormEpsilon = 1e-5f;

    private readonly GpuDevice gpu;
    private readonly Operation[] operations;
    private readonly DeviceLayer[] layers;
    private readonly DeviceParameter[] parameters;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] outputs, gradients;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> input, partial, scratch, probabilities;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> labels, lossAndCorrect;
    private readonly bool[] needsGradient, written;
    private float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f, weightDecay, momentum = 0.9f;
    private bool sgd, nesterov;  // sgd: SgdMomentum's step, its momentum buffer in each parameter's FirstMoment

    /// <summary>Builds the device layers and buffers of <paramref name="spec"/> (shapes inferred) for batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentException">The device is the host CPU.</exception>
    /// <exception cref="NotSupportedException">A layer has no device version (k-bit layers or mixed widths).</exception>
    public DeviceNetwork(ComputeDevice device, NetworkSpec spec, int batchSize)
        : this(Accelerator(device), spec, batchSize)
    {
    }

    /// <summary>Builds the network on an ILGPU device opened directly (the device check, kernel-level tools).</summary>
    /// <exception cref="NotSupportedException">A layer has no device version (k-bit layers or mixed widths).</exception>
    public DeviceNetwork(GpuDevice device, NetworkSpec spec, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        gpu = device;
        Definition = spec;
        BatchSize = batchSize;
        InputLength = (int)spec.Input.Elements;
        HasLoss = spec.Layers.Count > 0 && spec.Layers[^1].Kind == LayerKind.SoftmaxCrossEntropy;
        ThrowIfUnsupported(spec);
        var names = ModelPlanner.LayerNames(spec);
        var built = new List<Operation>();
        try
        {
            // Wired as SpecNetwork wires it: one operation per layer object or residual join, each writing a buffer of its own.
            LayerWiring.Walk(spec,
                (i, input) =>
                {
                    if (Create(device, spec.Layers[i], names[i], batchSize) is not { } created)
                        return false;
                    built.Add(new Operation(created, input, -1, built.Count, created.OutputLength));
                    return true;
                },
                (i, main, shortcut) => built.Add(new Operation(null, main, shortcut, built.Count, batchSize * (int)spec.Layers[i].OutputShape.Elements)));
            operations = [.. built];
            layers = [.. built.Where(o => o.Layer is not null).Select(o => o.Layer!)];
            parameters = [.. layers.SelectMany(l => l.Parameters)];
            OutputLength = operations.Length == 0 ? InputLength : operations[^1].Length / batchSize;
            input = gpu.Allocate<float>((long)batchSize * InputLength);
            outputs = [.. operations.Select(o => gpu.Allocate<float>(o.Length))];
            gradients = [.. operations.Select(o => gpu.Allocate<float>(o.Length))];
            partial = gpu.Allocate<float>(operations.Select(o => o.Length).Append(batchSize * InputLength).Max());
            scratch = gpu.Allocate<float>(Math.Max(1, layers.Select(l => l.ScratchLength).DefaultIfEmpty(0).Max()));
            probabilities = gpu.Allocate<float>((long)batchSize * OutputLength);
            labels = gpu.Allocate<int>(batchSize);
            lossAndCorrect = gpu.Allocate<int>(2);
        }
        catch
        {
            foreach (var operation in built)
                operation.Layer?.Dispose();
            throw;
        }
        // needsGradient[i]: buffer i depends on a parameter, so its gradient flows back (the generated code's rule)
        needsGradient = new bool[operations.Length];
        written = new bool[operations.Length];
        foreach (var o in operations)
            needsGradient[o.Output] = o.Layer is { Parameters.Count: > 0 } || Needs(o.Input) || Needs(o.Shortcut);
    }

    /// <summary>One forward call: a layer, or (Layer null) the add closing a residual block; buffer indices, -1 the input.</summary>
    private readonly record struct Operation(DeviceLayer? Layer, int Input, int Shortcut, int Output, int Length);

    /// <summary>The network as declared, shapes inferred.</summary>
    public NetworkSpec Definition { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Floats of one input sample (NHWC).</summary>
    public int InputLength { get; }

    /// <summary>Floats of one output sample (the logits).</summary>
    public int OutputLength { get; }

    /// <summary>Whether the spec ends in a softmax cross-entropy head, so <see cref="TrainStep"/> works.</summary>
    public bool HasLoss { get; }

    /// <summary>Optimizer steps taken, those of an uploaded optimizer state included.</summary>
    public long Steps { get; private set; }

    /// <summary>Every parameter's name, in the host network's order.</summary>
    public IReadOnlyList<string> ParameterNames => [.. parameters.Select(p => p.Name)];

    /// <summary>
    /// Copies every parameter of <paramref name="network"/> (matched by name) to the device and, when given, the
    /// state and settings of <paramref name="optimizer"/> (<see cref="Adam"/>'s moments, or <see cref="SgdMomentum"/>'s
    /// momentum buffers, and the step count); the device then steps with that optimizer. Without one the state is
    /// zero, the step count 0, and the device steps with Adam's defaults.
    /// </summary>
    /// <exception cref="ArgumentException">The network lacks a parameter or its length differs.</exception>
    /// <exception cref="NotSupportedException">The optimizer is neither <see cref="Adam"/> nor <see cref="SgdMomentum"/>.</exception>
    public void Upload(Network network, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var state = StateOf(optimizer);
        bool usesSgd = optimizer is SgdMomentum;
        foreach (var parameter in parameters)
        {
            parameter.Value.CopyFromCPU(HostValues(network, parameter));
            if (!parameter.Trainable)
                continue;
            parameter.SecondMoment.MemSetToZero();
            if (state is null)
                parameter.FirstMoment.MemSetToZero();
            else if (usesSgd)
                parameter.FirstMoment.CopyFromCPU(State(state, parameter, "sgd_momentum"));
            else
            {
                parameter.FirstMoment.CopyFromCPU(State(state, parameter, "adam_m"));
                parameter.SecondMoment.CopyFromCPU(State(state, parameter, "adam_v"));
            }
        }
        (sgd, beta1, beta2, epsilon, momentum, nesterov) = (false, 0.9f, 0.999f, 1e-8f, 0.9f, false);
        (weightDecay, Steps) = (optimizer?.WeightDecay ?? 0f, optimizer?.Steps ?? 0);
        if (optimizer is Adam adam)
            (beta1, beta2, epsilon) = (adam.Beta1, adam.Beta2, adam.Epsilon);
        else if (optimizer is SgdMomentum sgdMomentum)
            (sgd, momentum, nesterov) = (true, sgdMomentum.Momentum, sgdMomentum.Nesterov);
    }

    /// <summary>
    /// Copies every parameter (BatchNorm running statistics included) back into <paramref name="network"/> and, when
    /// given, the optimizer's state (Adam's moments or SGD's momentum buffers) and the step count into <paramref name="optimizer"/>'s state tensors, so that
    /// <c>Checkpoint.Save</c> of the host tensors writes the device's training state.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is not of the kind the device steps with (the one uploaded).</exception>
    public void Download(Network network, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var state = StateOf(optimizer);
        if (optimizer is not null && (optimizer is SgdMomentum) != sgd)
            throw new ArgumentException(
                $"The device steps with {(sgd ? "SGD" : "Adam")}, so its state does not fit a {optimizer.GetType().Name}; pass the optimizer uploaded.", nameof(optimizer));
        gpu.Synchronize();
        foreach (var parameter in parameters)
        {
            parameter.Value.CopyToCPU(HostValues(network, parameter));
            if (state is null || !parameter.Trainable)
                continue;
            if (sgd)
            {
                parameter.FirstMoment.CopyToCPU(State(state, parameter, "sgd_momentum"));
                continue;
            }
            parameter.FirstMoment.CopyToCPU(State(state, parameter, "adam_m"));
            parameter.SecondMoment.CopyToCPU(State(state, parameter, "adam_v"));
        }
        if (state is not null)
            state[Optimizer.StepTensorName].Value[0] = Steps;
    }

    /// <summary>Copies the gradients of the last <see cref="TrainStep"/> or <see cref="ForwardBackward"/> into <paramref name="network"/>'s <see cref="Parameter.Gradient"/>s.</summary>
    public void DownloadGradients(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        gpu.Synchronize();
        foreach (var parameter in parameters.Where(p => p.Trainable))
            parameter.Gradient.CopyToCPU(Host(network, parameter).Gradient.AsSpan());
    }

    /// <summary>Runs every layer on <paramref name="batch"/> (<see cref="BatchSize"/> × <see cref="InputLength"/> floats, uploaded).</summary>
    public void Forward(ReadOnlySpan<float> batch, bool training)
    {
        CheckBatch(batch);
        input.View.AsContiguous().CopyFromCPU(batch);
        ForwardLayers(training);
    }

    /// <summary>
    /// The names of the layers with an output buffer of their own, in forward order: the host network's
    /// <see cref="Network.Layers"/> order (SpecNetwork and the generated code wire the same operations), so index
    /// <c>i</c> here and there is the same layer. Flatten, the residual markers and the loss head have none.
    /// </summary>
    public IReadOnlyList<string> LayerNames => [.. layers.Select(l => l.Name)];

    /// <summary>
    /// Copies the output of layer <paramref name="index"/> (see <see cref="LayerNames"/>) in the last forward pass,
    /// for the whole batch, into <paramref name="output"/>: what the verify-style checks compare with the host layer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">No layer has that index.</exception>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not the layer's output length.</exception>
    public void CopyLayerOutput(int index, Span<float> output)
    {
        if ((uint)index >= (uint)layers.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Network '{Definition.Name}' has {layers.Length} layers on the device; pass an index below that.");
        var layer = layers[index];
        if (output.Length != layer.OutputLength)
            throw new ArgumentException($"Layer '{layer.Name}' outputs {layer.OutputLength} floats per batch, but the span holds {output.Length}.", nameof(output));
        gpu.Synchronize();
        outputs[operations.First(o => ReferenceEquals(o.Layer, layer)).Output].View.AsContiguous().SubView(0, output.Length).CopyToCPU(output);
    }

    /// <summary>Copies the logits of the last forward pass into <paramref name="output"/> (<see cref="BatchSize"/> × <see cref="OutputLength"/> floats).</summary>
    public void CopyOutput(Span<float> output)
    {
        if (output.Length != BatchSize * OutputLength)
            throw new ArgumentException($"output holds {output.Length} floats but the logits are {BatchSize * OutputLength} ({BatchSize} × {OutputLength}).", nameof(output));
        Logits.SubView(0, output.Length).CopyToCPU(output);
    }

    /// <summary>
    /// Forward (training mode), the loss against <paramref name="batchLabels"/> and backward, writing every gradient on
    /// the device; no optimizer step. Returns the loss and the correct count.
    /// </summary>
    public TrainingStepResult ForwardBackward(ReadOnlySpan<float> batch, ReadOnlySpan<int> batchLabels)
    {
        LossAndGradients(batch, batchLabels);
        return ReadLoss();
    }

    /// <summary>One training step on a batch: forward, loss, backward and an optimizer step (Adam or SGD, see <see cref="Upload"/>) with <paramref name="learningRate"/>.</summary>
    /// <exception cref="InvalidOperationException">The spec has no loss head.</exception>
    /// <exception cref="ArgumentException">The batch or the labels have the wrong length, or a label is not a class.</exception>
    public TrainingStepResult TrainStep(ReadOnlySpan<float> batch, ReadOnlySpan<int> batchLabels, float learningRate)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learningRate must be a finite value >= 0.");
        LossAndGradients(batch, batchLabels);
        Steps++;
        foreach (var p in parameters)
        {
            if (!p.Trainable)
                continue;
            float decay = p.Role is ParameterRole.Weight or ParameterRole.LatentWeight ? weightDecay : 0f;
            bool latent = p.Role == ParameterRole.LatentWeight;
            if (sgd)
                GpuSgd.Step(gpu, p.Value, p.Gradient, p.FirstMoment, p.Length, learningRate, momentum, decay, nesterov, latent);
            else
                GpuAdam.Step(gpu, p.Value, p.Gradient, p.FirstMoment, p.SecondMoment, p.Length, Steps, learningRate, beta1, beta2, epsilon,
                    decay, latent);
        }
        return ReadLoss();
    }

    /// <summary>Frees every device buffer.</summary>
    public void Dispose()
    {
        foreach (var layer in layers)
            layer.Dispose();
        foreach (var buffer in outputs.Concat(gradients))
            buffer.Dispose();
        input.Dispose();
        partial.Dispose();
        scratch.Dispose();
        probabilities.Dispose();
        labels.Dispose();
        lossAndCorrect.Dispose();
    }

    private static GpuDevice Accelerator(ComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.IsHost
            ? throw new ArgumentException("DeviceNetwork runs on an ILGPU device (cuda or ilgpu-cpu); on the cpu device train the host Network itself.", nameof(device))
            : device.Gpu;
    }

    private ArrayView<float> Logits => operations.Length == 0 ? input.View : outputs[^1].View;

    private void LossAndGradients(ReadOnlySpan<float> batch, ReadOnlySpan<int> batchLabels)
    {
        if (!HasLoss)
            throw new InvalidOperationException(
                $"Network '{Definition.Name}' has no loss head; declare [SoftmaxCrossEntropy] (or 'softmax_cross_entropy') as its last layer to train it.");
        if (batchLabels.Length != BatchSize)
            throw new ArgumentException($"Network '{Definition.Name}': {batchLabels.Length} labels for a batch of {BatchSize}; pass one label per sample.", nameof(batchLabels));
        foreach (int label in batchLabels)
            if ((uint)label >= (uint)OutputLength)
                throw new ArgumentException($"Network '{Definition.Name}': label {label} is not a class 0..{OutputLength - 1}.", nameof(batchLabels));
        Forward(batch, training: true);
        labels.View.AsContiguous().CopyFromCPU(batchLabels);
        var logitGradient = operations.Length == 0 ? partial.View : gradients[^1].View;
        GpuSoftmaxCrossEntropy.Forward(gpu, Logits, labels.View, BatchSize, OutputLength, probabilities.View,
            lossAndCorrect.View.AsContiguous().SubView(0, 1).Cast<float>(), lossAndCorrect.View.SubView(1, 1));
        GpuSoftmaxCrossEntropy.Backward(gpu, probabilities.View, labels.View, BatchSize, OutputLength, logitGradient);
        BackwardLayers();
    }

    private TrainingStepResult ReadLoss()
    {
        Span<int> pair = stackalloc int[2];
        lossAndCorrect.View.AsContiguous().CopyToCPU(pair);
        return new TrainingStepResult(BitConverter.Int32BitsToSingle(pair[0]), pair[1]);
    }

    private void ForwardLayers(bool training)
    {
        foreach (var o in operations)
        {
            if (o.Layer is { } layer)
                layer.Forward(Buffer(o.Input), outputs[o.Output].View, training, scratch.View);
            else
                GpuTensorOps.Add(gpu, Buffer(o.Input), Buffer(o.Shortcut), outputs[o.Output].View, o.Length);
        }
    }

    /// <summary>
    /// Last operation first, where a parameter lies upstream (the generated backward's rule). A buffer read by several
    /// operations (a residual block's input) takes the first gradient sent to it as is and adds the others; a layer
    /// whose input needs no gradient skips dx.
    /// </summary>
    private void BackwardLayers()
    {
        Array.Clear(written);
        for (int i = operations.Length - 1; i >= 0; i--)
        {
            var o = operations[i];
            if (!needsGradient[o.Output])
                continue;
            var dy = gradients[o.Output].View;
            if (o.Layer is not { } layer)
            {
                Send(dy, o.Input, o.Length);
                Send(dy, o.Shortcut, o.Length);
                continue;
            }
            var x = Buffer(o.Input);
            var y = outputs[o.Output].View;
            if (!Needs(o.Input))
                layer.Backward(x, y, dy, partial.View, needDx: false, scratch.View);
            else if (!written[o.Input])
            {
                layer.Backward(x, y, dy, gradients[o.Input].View, needDx: true, scratch.View);
                written[o.Input] = true;
            }
            else
            {
                layer.Backward(x, y, dy, partial.View, needDx: true, scratch.View);
                GpuTensorOps.Accumulate(gpu, gradients[o.Input].View, partial.View, layer.InputLength);
            }
        }
    }

    /// <summary>A residual add's dy into one of the buffers it read: copied for the first gradient, added to the others.</summary>
    private void Send(ArrayView<float> dy, int read, int length)
    {
        if (!Needs(read))
            return;
        if (written[read])
            GpuTensorOps.Accumulate(gpu, gradients[read].View, dy, length);
        else
            dy.SubView(0, length).CopyTo(((ArrayView<float>)gradients[read].View).SubView(0, length));
        written[read] = true;
    }

    private bool Needs(int buffer) => buffer >= 0 && needsGradient[buffer];

    private ArrayView<float> Buffer(int index) => index < 0 ? input.View : outputs[index].View;

    private void CheckBatch(ReadOnlySpan<float> batch)
    {
        if (batch.Length != BatchSize * InputLength)
            throw new ArgumentException(
                $"Network '{Definition.Name}' was built for batches of {BatchSize} samples of {InputLength} floats, i.e. {BatchSize * InputLength} floats, "
                + $"but the batch holds {batch.Length}; pass exactly one batch.", nameof(batch));
    }

    /// <summary>The optimizer's state tensors by name; null without an optimizer.</summary>
    private static Dictionary<string, Parameter>? StateOf(Optimizer? optimizer) => optimizer switch
    {
        null => null,
        Adam or SgdMomentum => optimizer.State.ToDictionary(p => p.Name, StringComparer.Ordinal),
        _ => throw new NotSupportedException(
            $"Device training runs Adam or SGD, not {optimizer.GetType().Name}; use --optimizer adam or sgd, or train with --device cpu."),
    };

    private static Span<float> State(Dictionary<string, Parameter> state, DeviceParameter parameter, string suffix)
        => state.TryGetValue($"{parameter.Name}.{suffix}", out var tensor) && tensor.Length == parameter.Length
            ? tensor.Value
            : throw new ArgumentException($"The optimizer has no state '{parameter.Name}.{suffix}' of {parameter.Length} floats; pass the optimizer over this network's parameters.", "optimizer");

    private Span<float> HostValues(Network network, DeviceParameter parameter) => Host(network, parameter).Value;

    private Parameter Host(Network network, DeviceParameter parameter)
    {
        Parameter host;
        try
        {
            host = network.Parameter(parameter.Name);
        }
        catch (KeyNotFoundException e)
        {
            throw new ArgumentException($"Network '{network.Definition.Name}' is not the network of this device network ('{Definition.Name}'): {e.Message}", nameof(network), e);
        }
        if (host.Length != parameter.Length)
            throw new ArgumentException(
                $"Parameter '{parameter.Name}' holds {host.Length} floats on the host but {parameter.Length} on the device; pass the network this device network was built from.", nameof(network));
        return host;
    }

    /// <summary>The device layer of <paramref name="layer"/>, or null for Flatten and the loss head.</summary>
    private static DeviceLayer? Create(GpuDevice gpu, LayerSpec layer, string name, int batch)
    {
        var input = layer.InputShape;
        int h = input.Height, w = input.Width, c = input.Channels, inputs = (int)input.Elements;
        var kernel = LayerKernels.Of(layer);
        Conv2dShape Conv() => Checked(new Conv2dShape(batch, h, w, c, layer.Units, layer.Kernel, layer.Kernel, layer.Stride, layer.Stride, layer.Pad, layer.Pad));
        Pool2dShape Pool() => new(batch, h, w, c, layer.Kernel, layer.Kernel, layer.Stride, layer.Stride, layer.Pad, layer.Pad);
        return (layer.Kind, kernel) switch
        {
            (LayerKind.Convolution, _) => new DeviceConv2dLayer(gpu, name, Conv(), bias: true),
            (LayerKind.QConvolution, LayerKernel.Float) => new DeviceConv2dLayer(gpu, name, Conv(), bias: false),
            (LayerKind.QConvolution, LayerKernel.Xnor) => new DeviceBinaryConv2dLayer(gpu, name, Conv(),
                layer.Padding == Padding.Zero ? BinaryPadding.Zero : BinaryPadding.One),
            (LayerKind.FullyConnected, _) => new DeviceDenseLayer(gpu, name, batch, inputs, layer.Units, bias: true),
            (LayerKind.QFullyConnected, LayerKernel.Float) => new DeviceDenseLayer(gpu, name, batch, inputs, layer.Units, bias: false),
            (LayerKind.QFullyConnected, LayerKernel.Xnor) => new DeviceBinaryDenseLayer(gpu, name, batch, inputs, layer.Units),
            (LayerKind.BatchNorm, _) => new DeviceBatchNormLayer(gpu, name, batch, h * w, c, BatchNormMomentum, BatchNormEpsilon),
            (LayerKind.MaxPool, _) => new DeviceMaxPoolLayer(gpu, name, Pool()),
            (LayerKind.AvgPool, _) => new DeviceAvgPoolLayer(gpu, name, Pool()),
            (LayerKind.GlobalAvgPool, _) => new DeviceGlobalAvgPoolLayer(gpu, name, batch, h * w, c),
            (LayerKind.QActivation, LayerKernel.Sign) => new DeviceSignLayer(gpu, name, batch * inputs),
            (LayerKind.ReLU, _) => new DeviceReluLayer(gpu, name, batch * inputs),
            _ => null,
        };
    }

    /// <summary>
    /// Throws <see cref="NotSupportedException"/> naming the first layer of <paramref name="spec"/> that has no device
    /// version (k-bit 2..31 or mixed widths, k-bit activations), without allocating anything.
    /// </summary>
    public static void ThrowIfUnsupported(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var names = ModelPlanner.LayerNames(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            var kernel = LayerKernels.Of(layer);
            bool supported = layer.Kind switch
            {
                LayerKind.QConvolution or LayerKind.QFullyConnected => kernel is LayerKernel.Float or LayerKernel.Xnor,
                LayerKind.QActivation => kernel == LayerKernel.Sign,
                _ => true,
            };
            if (!supported)
                throw new NotSupportedException(
                    $"Layer '{names[i]}' ({layer.Kind}{Bits(layer)}) of network '{spec.Name}' has no device version (device training runs float, "
                    + "1-bit and 32-bit layers); train it with --device cpu.");
        }
    }

    private static Conv2dShape Checked(Conv2dShape shape)
    {
        shape.Validate();
        return shape;
    }

    private static string Bits(LayerSpec layer) => layer.Kind switch
    {
        LayerKind.QConvolution or LayerKind.QFullyConnected => string.Create(CultureInfo.InvariantCulture, $", {layer.WeightBits}-bit weights, {layer.ActivationBits}-bit activations"),
        LayerKind.QActivation => string.Create(CultureInfo.InvariantCulture, $", {layer.ActivationBits} bits"),
        _ => "",
    };
}
