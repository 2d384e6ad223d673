// Turns a trained network (spec + float parameters, or a training checkpoint) into a packed model (.bnnx).
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Builds a <see cref="PackedModel"/> from a network's float parameters following <see cref="ModelPlanner.Plan"/>:
/// 1-bit weights are sign-packed (conv OHWI rows of ceil(C / 64) words per tap, dense rows of ceil(inputs / 64)
/// words); a BatchNorm + sign after a binary layer becomes one I32 threshold per channel
/// (<see cref="ThresholdFolding"/>), with the channel's weight bits flipped where the scale is negative; k-bit
/// weights are quantized to their codes and stored as <c>bits</c> planes of ceil(K / 64) words per output
/// (<see cref="BitPlanes"/>' row layout, K in (ky, kx, c) order); a BatchNorm that stays float (alone, or folded
/// into a binary or k-bit layer's float output) is stored as F32 scale and shift computed exactly as the training
/// code's evaluation mode does, so the interpreter reproduces the float path bit for bit. Float layers keep their
/// F32 weights and biases.
/// </summary>
public static class ModelConverter
{
    /// <summary>BatchNorm's epsilon (the training layer's default, which generated networks use).</summary>
    public const float BatchNormEpsilon = 1e-5f;

    /// <summary>
    /// Converts the training checkpoint at <paramref name="checkpointPath"/> (its <c>network</c> metadata and its
    /// parameter tensors) and writes the packed model to <paramref name="outputPath"/> (atomically).
    /// <paramref name="progress"/> receives fractions from 0 to 1.
    /// </summary>
    /// <exception cref="ModelFileException">The checkpoint is missing, damaged, lacks the network or a parameter, or the output cannot be written.</exception>
    public static PackedModel Convert(string checkpointPath, string outputPath, IProgress<double>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        progress?.Report(0);
        var file = SafeTensorsFile.Read(checkpointPath);
        if (!file.Metadata.TryGetValue(Checkpoint.FormatKey, out var format) || format != Checkpoint.FormatName)
            throw new ModelFileException(checkpointPath, "it is not a BnnDsl training checkpoint", "pass a checkpoint written by BnnDsl training");
        if (!file.Metadata.TryGetValue("network", out var json))
            throw new ModelFileException(checkpointPath, "its metadata has no 'network' entry (the network spec)",
                "convert a checkpoint written by the Trainer, or use ModelConverter.Convert(spec, parameters)");
        var spec = NetworkSpecJson.Read(json, checkpointPath);
        progress?.Report(0.2);
        PackedModel model;
        try
        {
            model = Build(spec, name => file.TryGet(name, out var tensor) && tensor.DType == SafeTensorDType.F32
                ? tensor.As<float>().ToArray()
                : throw new ModelFileException(checkpointPath, $"it has no F32 tensor '{name}'", "convert a checkpoint of this network written by BnnDsl training"),
                checkpointPath);
        }
        catch (NotSupportedException ex)
        {
            throw new ModelFileException(checkpointPath, ex.Message, "change the network or train it with supported bit widths", ex);
        }
        catch (ArgumentException ex)
        {
            throw new ModelFileException(checkpointPath, ex.Message, "convert a checkpoint of this network written by BnnDsl training", ex);
        }
        progress?.Report(0.8);
        model.Save(outputPath);
        progress?.Report(1);
        return model;
    }

    /// <summary>
    /// Converts <paramref name="spec"/> with float parameters looked up by name (<c>conv1.weight</c>,
    /// <c>bn1.running_var</c>, …, see <see cref="ModelPlanner.LayerNames"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A parameter is missing or has the wrong length.</exception>
    /// <exception cref="NotSupportedException">A layer has bit widths the interpreter does not run.</exception>
    public static PackedModel Convert(NetworkSpec spec, Func<string, float[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        return Build(spec, parameters, "<memory>");
    }

    private static PackedModel Build(NetworkSpec spec, Func<string, float[]> parameters, string source)
    {
        var steps = ModelPlanner.Plan(spec);
        var tensors = new List<SafeTensor>();

        float[] Get(string name, long length)
        {
            var values = parameters(name) ?? throw new ArgumentException($"Parameter '{name}' is null; pass its values.", nameof(parameters));
            if (values.Length != length)
                throw new ArgumentException($"Parameter '{name}' of {source} holds {values.Length} floats, expected {length}; pass the parameters of this network.", nameof(parameters));
            return values;
        }

        (float[] Scale, float[] Shift) Norm(string bn, int channels)
        {
            var gamma = Get($"{bn}.gamma", channels);
            var beta = Get($"{bn}.beta", channels);
            var mean = Get($"{bn}.running_mean", channels);
            var variance = Get($"{bn}.running_var", channels);
            var scale = new float[channels];
            var shift = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                scale[c] = ThresholdFolding.Scale(gamma[c], variance[c], BatchNormEpsilon);
                shift[c] = ThresholdFolding.Shift(beta[c], mean[c], scale[c]);
            }
            return (scale, shift);
        }

        void AddFloats(string name, int[] shape, float[] values) => tensors.Add(SafeTensor.Create<float>(name, shape, values));

        foreach (var step in steps)
        {
            var layer = step.Spec;
            switch (step.Op)
            {
                case PlanOp.FloatConv:
                {
                    int filters = layer!.Units, k = layer.Kernel, channels = layer.InputShape.Channels;
                    AddFloats($"{step.Layer}.weight", [filters, k, k, channels], Get($"{step.Layer}.weight", (long)filters * k * k * channels));
                    if (step.Bias)
                        AddFloats($"{step.Layer}.bias", [filters], Get($"{step.Layer}.bias", filters));
                    if (step.Norm is not null)
                    {
                        var (scale, shift) = Norm(step.Norm, filters);
                        AddFloats($"{step.Norm}.scale", [filters], scale);
                        AddFloats($"{step.Norm}.shift", [filters], shift);
                    }
                    break;
                }
                case PlanOp.FloatDense or PlanOp.BitsDense:
                {
                    int inputs = (int)step.Input.Elements;
                    AddFloats($"{step.Layer}.weight", [layer!.Units, inputs], Get($"{step.Layer}.weight", (long)layer.Units * inputs));
                    if (step.Bias)
                        AddFloats($"{step.Layer}.bias", [layer.Units], Get($"{step.Layer}.bias", layer.Units));
                    break;
                }
                case PlanOp.Affine:
                {
                    var (scale, shift) = Norm(step.Layer, step.Input.Channels);
                    AddFloats($"{step.Layer}.scale", [step.Input.Channels], scale);
                    AddFloats($"{step.Layer}.shift", [step.Input.Channels], shift);
                    break;
                }
                case PlanOp.XnorConv or PlanOp.XnorDense:
                {
                    bool conv = step.Op == PlanOp.XnorConv;
                    int outputs = layer!.Units, channels = conv ? layer.InputShape.Channels : (int)step.Input.Elements;
                    int taps = conv ? layer.Kernel * layer.Kernel : 1, words = SignPacking.WordsFor(channels);
                    var weights = Get($"{step.Layer}.weight", (long)outputs * taps * channels);
                    var packed = new ulong[outputs * taps * words];
                    SignPacking.Pack(weights, outputs * taps, channels, packed);
                    if (step.Norm is not null && !step.OutputBits)
                    {
                        var (scale, shift) = Norm(step.Norm, outputs);
                        AddFloats($"{step.Norm}.scale", [outputs], scale);
                        AddFloats($"{step.Norm}.shift", [outputs], shift);
                    }
                    else if (step.Norm is not null)
                    {
                        var (scale, shift) = Norm(step.Norm, outputs);
                        var thresholds = new int[outputs];
                        for (int o = 0; o < outputs; o++)
                        {
                            thresholds[o] = ThresholdFolding.Find(scale[o], shift[o], taps * channels, out bool flip);
                            if (flip)
                                FlipRow(packed.AsSpan(o * taps * words, taps * words), taps, channels);
                        }
                        tensors.Add(SafeTensor.Create<int>($"{step.Layer}.threshold", [outputs], thresholds));
                    }
                    int[] shape = conv ? [outputs, layer.Kernel, layer.Kernel, words] : [outputs, words];
                    tensors.Add(SafeTensor.Create<ulong>($"{step.Layer}.packed_weight", shape, packed));
                    break;
                }
                case PlanOp.BitSerialConv or PlanOp.BitSerialDense:
                {
                    int outputs = layer!.Units, k = ModelPlanner.PatchLength(step), bits = layer.WeightBits;
                    var weights = Get($"{step.Layer}.weight", (long)outputs * k);
                    var codes = new byte[weights.Length];
                    for (int i = 0; i < codes.Length; i++)
                        codes[i] = BitPlanes.QuantizeWeight(weights[i], bits);
                    var planes = new ulong[outputs * BitPlanes.RowWords(k, bits)];
                    BitPlanes.PackActivationCodes(codes, outputs, k, bits, planes);
                    tensors.Add(SafeTensor.Create<ulong>($"{step.Layer}.packed_weight", [outputs, bits, BitPlanes.WordsFor(k)], planes));
                    if (step.Norm is not null)
                    {
                        var (scale, shift) = Norm(step.Norm, outputs);
                        AddFloats($"{step.Norm}.scale", [outputs], scale);
                        AddFloats($"{step.Norm}.shift", [outputs], shift);
                    }
                    break;
                }
            }
        }
        return PackedModel.Create(spec, steps, tensors, source);
    }

    /// <summary>Negates one output's packed weights: flips the valid bits of every tap, keeping the tail bits zero.</summary>
    private static void FlipRow(Span<ulong> row, int taps, int channels)
    {
        int words = SignPacking.WordsFor(channels);
        for (int t = 0; t < taps; t++)
            for (int w = 0; w < words; w++)
            {
                int valid = Math.Min(64, channels - w * 64);
                row[t * words + w] ^= valid == 64 ? ulong.MaxValue : (1UL << valid) - 1;
            }
    }
}
