// The base of every generated network: its layers, parameters and buffers for one batch size, and the loss head.
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Networks;

/// <summary>
/// A network built for a fixed batch size. The generated subclass declares the layers and their buffers and
/// implements <see cref="ForwardLayers"/> and <see cref="BackwardLayers"/> as flat lists of layer calls; this class
/// checks inputs, owns the softmax cross-entropy head and the parameter registry. Steady-state calls allocate nothing.
/// </summary>
public abstract class Network
{
    private readonly SoftmaxCrossEntropy? loss;
    private readonly float[] logitGradient;
    private Layer[] layers = [];
    private float[][] outputs = [];
    private Parameter[] parameters = [];
    private int lastBatchSamples;

    /// <summary>Sets up the network's sizes; the subclass then creates its layers and calls <see cref="Register"/>.</summary>
    protected Network(NetworkSpec definition, int batchSize, int inputLength, int outputLength, bool hasLoss)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Network '{definition.Name}': the batch size must be at least 1.");
        Definition = definition;
        BatchSize = batchSize;
        InputLength = inputLength;
        OutputLength = outputLength;
        if (hasLoss)
        {
            loss = new SoftmaxCrossEntropy(batchSize, outputLength);
            logitGradient = new float[batchSize * outputLength];
        }
        else
        {
            logitGradient = [];
        }
    }

    /// <summary>The network as declared, shapes inferred.</summary>
    public NetworkSpec Definition { get; }

    /// <summary>Samples per <see cref="Forward"/> call.</summary>
    public int BatchSize { get; }

    /// <summary>Floats of one input sample (NHWC).</summary>
    public int InputLength { get; }

    /// <summary>Floats of one output sample (the logits, or the last layer's output).</summary>
    public int OutputLength { get; }

    /// <summary>Whether the network ends in a softmax cross-entropy head, so <see cref="Loss"/> and <see cref="Backward"/> work.</summary>
    public bool HasLoss => loss is not null;

    /// <summary>The layers in declaration order (Flatten and the loss head have no layer object).</summary>
    public IReadOnlyList<Layer> Layers => layers;

    /// <summary>Every parameter, trainable and state, in layer order; names are unique.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The output of the last <see cref="Forward"/>: <see cref="BatchSize"/> × <see cref="OutputLength"/> floats.</summary>
    public abstract ReadOnlySpan<float> Output { get; }

    /// <summary>Correct predictions among the labels of the last <see cref="Loss"/> call.</summary>
    public int Correct => loss?.Correct ?? 0;

    /// <summary>
    /// Runs every layer on <paramref name="input"/> (<see cref="BatchSize"/> × <see cref="InputLength"/> floats, NHWC).
    /// <paramref name="training"/> selects batch statistics in BatchNorm and keeps what <see cref="Backward"/> needs.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, bool training)
    {
        CheckInput(input);
        ForwardLayers(input, training);
    }

    /// <summary>
    /// The float reference of an evaluation <see cref="Forward"/>: the same layer calls, but every binary and k-bit
    /// layer computes in float what its bit kernel computes (sign(x) and sign(W) as ±1, or the k-bit codes and
    /// levels, multiplied by the float SGEMM, as a float framework simulates them); every other layer runs as in
    /// <c>Forward(input, training: false)</c>. <see cref="Output"/> then holds the reference output, equal to the
    /// evaluation forward's bit for bit (see each layer's <c>ForwardReference</c> for the one bound). The baseline
    /// the packed inference is measured and tested against.
    /// </summary>
    public void ForwardReference(ReadOnlySpan<float> input)
    {
        CheckInput(input);
        ForwardReferenceLayers(input);
    }

    /// <summary>Mean softmax cross-entropy of the last <see cref="Forward"/>'s logits against <paramref name="labels"/> (one per sample).</summary>
    public float Loss(ReadOnlySpan<int> labels)
    {
        var head = loss ?? throw new InvalidOperationException(
            $"Network '{Definition.Name}' has no loss head; declare [SoftmaxCrossEntropy] (or 'softmax_cross_entropy') as its last layer to train it.");
        if (labels.Length != BatchSize)
            throw new ArgumentException($"Network '{Definition.Name}': {labels.Length} labels for a batch of {BatchSize}; pass one label per sample.", nameof(labels));
        lastBatchSamples = BatchSize;
        return head.Forward(Output, labels);
    }

    /// <summary>
    /// Back-propagates the last <see cref="Loss"/> through every layer, overwriting each trainable parameter's
    /// <see cref="Parameter.Gradient"/>. <paramref name="input"/> is the batch the last <see cref="Forward"/> ran on.
    /// </summary>
    public void Backward(ReadOnlySpan<float> input)
    {
        var head = loss ?? throw new InvalidOperationException($"Network '{Definition.Name}' has no loss head to back-propagate from.");
        if (lastBatchSamples == 0)
            throw new InvalidOperationException($"Network '{Definition.Name}': call Forward(input, training: true) and Loss(labels) before Backward.");
        if (input.Length != BatchSize * InputLength)
            throw new ArgumentException($"Network '{Definition.Name}': Backward needs the {BatchSize * InputLength}-float batch of the last Forward, got {input.Length}.", nameof(input));
        head.Backward(logitGradient);
        BackwardLayers(input, logitGradient);
    }

    /// <summary>Initializes every layer's parameters from <paramref name="seed"/> (same seed, same weights).</summary>
    public void Initialize(int seed)
    {
        var rng = new Random(seed);
        foreach (var layer in layers)
            layer.Initialize(rng);
    }

    /// <summary>
    /// Writes every parameter (weights, BatchNorm statistics) to a safetensors checkpoint at <paramref name="path"/>
    /// (temporary file, then rename), with this network's <see cref="NetworkSpec"/> as JSON in the metadata.
    /// </summary>
    public void Save(string path) =>
        Checkpoint.Save(path, parameters, new Dictionary<string, string> { ["network"] = NetworkSpecJson.Write(Definition) });

    /// <summary>
    /// Reads every parameter from a checkpoint written by <see cref="Save"/> or by the Trainer (extra tensors such as
    /// optimizer state are ignored); a missing tensor or a shape mismatch throws <see cref="ModelFileException"/>
    /// naming the file and the tensor, and nothing is changed.
    /// </summary>
    public void Load(string path) => Checkpoint.Load(path, parameters);

    /// <summary>The output of <c>Layers[<paramref name="index"/>]</c> in the last forward pass, for the whole batch.</summary>
    public ReadOnlySpan<float> LayerOutput(int index)
    {
        if ((uint)index >= (uint)layers.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Network '{Definition.Name}' has {layers.Length} layers; pass an index below that.");
        return outputs[index];
    }

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    public Parameter Parameter(string name)
    {
        foreach (var parameter in parameters)
            if (parameter.Name == name)
                return parameter;
        throw new KeyNotFoundException($"Network '{Definition.Name}' has no parameter '{name}'; its parameters are {string.Join(", ", parameters.Select(p => p.Name))}.");
    }

    /// <summary>The generated layer calls of the forward pass.</summary>
    protected abstract void ForwardLayers(ReadOnlySpan<float> input, bool training);

    /// <summary>The generated layer calls of <see cref="ForwardReference"/>: the evaluation forward with the binary and k-bit layers' float references.</summary>
    protected abstract void ForwardReferenceLayers(ReadOnlySpan<float> input);

    /// <summary>
    /// The generated layer calls of the backward pass, last layer first, from the loss gradient. Only networks with
    /// a loss head override it, and <see cref="Backward"/> refuses to run without one.
    /// </summary>
    protected virtual void BackwardLayers(ReadOnlySpan<float> input, ReadOnlySpan<float> logitGradient) =>
        throw new InvalidOperationException($"Network '{Definition.Name}' has no loss head to back-propagate from.");

    /// <summary>
    /// The first place, in forward order, where a value is NaN or infinite: a parameter ("parameter conv1.weight")
    /// or a layer's output ("output of layer qconv1"); null when every value is finite. Used to stop a diverging run
    /// with a message that says where it went wrong.
    /// </summary>
    public string? FindNonFinite()
    {
        for (int i = 0; i < layers.Length; i++)
        {
            foreach (var parameter in layers[i].Parameters)
                if (!AllFinite(parameter.Value))
                    return $"parameter {parameter.Name}";
            if (!AllFinite(outputs[i]))
                return $"output of layer {layers[i].Name}";
        }
        return null;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float value in values)
            if (!float.IsFinite(value))
                return false;
        return true;
    }

    private void CheckInput(ReadOnlySpan<float> input)
    {
        if (input.Length != BatchSize * InputLength)
            throw new ArgumentException(
                $"Network '{Definition.Name}' was built for batches of {BatchSize} samples of {InputLength} floats ({Definition.Input}), "
                + $"i.e. {BatchSize * InputLength} floats, but the input holds {input.Length}; pass exactly one batch "
                + "(pad a short last batch) or build the network for another batch size.", nameof(input));
    }

    /// <summary>Called once by the generated constructor with every layer in order and the buffer each one writes.</summary>
    protected void Register(Layer[] networkLayers, float[][] layerOutputs)
    {
        ArgumentNullException.ThrowIfNull(networkLayers);
        ArgumentNullException.ThrowIfNull(layerOutputs);
        if (layerOutputs.Length != networkLayers.Length)
            throw new ArgumentException($"Network '{Definition.Name}': {networkLayers.Length} layers but {layerOutputs.Length} output buffers.", nameof(layerOutputs));
        layers = networkLayers;
        outputs = layerOutputs;
        parameters = [.. networkLayers.SelectMany(l => l.Parameters)];
        var duplicate = parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Network '{Definition.Name}' has two parameters named '{duplicate.Key}'.");
    }
}
