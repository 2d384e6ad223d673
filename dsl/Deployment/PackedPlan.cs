// Derives a packed model's execution plan from a NetworkSpec: which layers fuse, where values stay packed bits,
// and which step's output each step reads. Pure, so the generator can run it at compile time.
using System;
using System.Collections.Generic;
using System.Linq;

namespace BnnDsl.Deployment;

/// <summary>
/// Walks the layers of a <see cref="NetworkSpec"/> and emits <see cref="PlanStep"/>s, tracking whether the
/// current values are floats or packed bits:
/// <list type="bullet">
/// <item>a 1-bit QConvolution / QFullyConnected followed by BatchNorm and QActivation(1), possibly with a MaxPool
/// between them (conv only), becomes one XNOR step writing bits through an integer threshold (the pool follows as a
/// packed max pool);</item>
/// <item>a float convolution absorbs a following BatchNorm (scale + shift), MaxPool and QActivation(1) into its
/// per-image epilogue;</item>
/// <item>a 1-bit layer followed by a BatchNorm but no sign (a Bi-Real block's convolution before its residual add)
/// writes floats with the BatchNorm folded into its output stage as per-channel scale + bias;</item>
/// <item>a k-bit (2..8) QConvolution / QFullyConnected quantizes its float input itself (a QActivation of the same
/// width right before it folds away) and absorbs a following BatchNorm;</item>
/// <item>a residual block's end becomes an add of the main path's and the shortcut's steps (the block input's step
/// for an identity shortcut), which also packs the sum's signs when the next block starts with QActivation(1);</item>
/// <item>a float fully connected layer reading bits reads them directly; any other layer runs on floats, with
/// sign-packing and unpacking inserted where the representation changes.</item>
/// </list>
/// The plan is a pure function of the spec, so a loader re-derives it and compares it with the stored text, and
/// the source generator derives the same plan at compile time.
/// </summary>
public static class PackedPlan
{
    /// <summary>The layer names the generator gives <paramref name="spec"/>'s layers (<c>conv1, bn1, qact1, …</c>), one per layer.</summary>
    public static IReadOnlyList<string> LayerNames(NetworkSpec spec)
    {
        if (spec is null)
            throw new ArgumentNullException(nameof(spec));
        return BnnDsl.LayerNames.Of(spec);
    }

    /// <summary>Packed 64-bit words of one sample of <paramref name="shape"/>: per position for images, flat for vectors.</summary>
    public static int Words(TensorShape shape) => shape.Rank == 3
        ? shape.Height * shape.Width * WordsFor(shape.Channels)
        : WordsFor(shape.Channels);

    /// <summary>64-bit words holding <paramref name="channels"/> sign bits: ceil(channels / 64).</summary>
    public static int WordsFor(int channels) => (channels + 63) / 64;

    /// <summary>Whether a step of <paramref name="op"/> reads packed bits (else floats).</summary>
    public static bool ReadsBits(PlanOp op) =>
        op is PlanOp.Unpack or PlanOp.Repack or PlanOp.BitsDense or PlanOp.PackedMaxPool or PlanOp.XnorConv or PlanOp.XnorDense;

    /// <summary>The plan as stored in a packed model's <c>plan</c> metadata: one step per line.</summary>
    public static string Text(IReadOnlyList<PlanStep> steps)
    {
        if (steps is null)
            throw new ArgumentNullException(nameof(steps));
        return string.Join("\n", steps);
    }

    /// <summary>The plan of <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">The spec's shapes are not the ones shape inference gives (a hand-edited or damaged description).</exception>
    /// <exception cref="NotSupportedException">A layer has bit widths the interpreter does not run (9..31), or a padded pooling.</exception>
    public static IReadOnlyList<PlanStep> Plan(NetworkSpec spec)
    {
        if (spec is null)
            throw new ArgumentNullException(nameof(spec));
        CheckShapes(spec);
        var layers = spec.Layers;
        var names = LayerNames(spec);
        // Checked up front: the fused steps below take a QActivation after a convolution as a sign without visiting it.
        for (int i = 0; i < layers.Count; i++)
            CheckBits(layers[i], names[i]);
        var steps = new List<PlanStep>();
        // the current values: the step that wrote them (-1: the input), which forms exist, their shape and layer
        var value = new Value(-1, true, false, spec.Input, "input");
        var blocks = new Stack<(Value Input, Value? Main)>();
        int n = layers.Count;

        bool Is(int j, LayerKind kind) => j < n && layers[j].Kind == kind;

        // Appends a step reading the current values (or `source`); its output becomes the current values.
        void Add(PlanStep step, int? source = null)
        {
            steps.Add(step with { Index = steps.Count, Source = source ?? value.Step });
            var added = steps[steps.Count - 1];
            value = new Value(added.Index, added.OutputFloats, added.HasBits, added.Output, added.Last);
        }

        void ToFloats()
        {
            if (!value.Floats)
                Add(new PlanStep(PlanOp.Unpack, value.Last, value.Last, value.Shape, value.Shape, false));
        }

        // The floats of `from`, unpacked by a new step when it holds bits only.
        Value Floats(Value from)
        {
            if (from.Floats)
                return from;
            var saved = value;
            value = from;
            ToFloats();
            var unpacked = value;
            value = saved;
            return unpacked;
        }

        void ToFlatBits()
        {
            var shape = value.Shape;
            if (shape.Rank == 3 && shape.Channels % 64 != 0 && shape.Height * shape.Width > 1)
                Add(new PlanStep(PlanOp.Repack, value.Last, value.Last, shape, TensorShape.Vector((int)shape.Elements), true));
        }

        // Index of the layer after a fused BatchNorm at j (the BatchNorm's name in norm), or j itself.
        int FuseNorm(int j, out string? norm)
        {
            norm = Is(j, LayerKind.BatchNorm) ? names[j] : null;
            return norm is null ? j : j + 1;
        }

        for (int i = 0; i < n; i++)
        {
            var layer = layers[i];
            string name = names[i];
            switch (layer.Kind)
            {
                case LayerKind.SoftmaxCrossEntropy:
                    continue;
                case LayerKind.Residual:
                    blocks.Push((value, null));
                    continue;
                case LayerKind.Shortcut:
                {
                    var (input, _) = blocks.Pop();
                    blocks.Push((input, value));
                    value = input;
                    continue;
                }
                case LayerKind.EndResidual:
                {
                    var (input, main) = blocks.Pop();
                    var mainValue = Floats(main ?? value);
                    var shortcutValue = Floats(main is null ? input : value);
                    // the sum's signs are packed in the same pass when the next block (or layer) starts with QActivation(1)
                    int next = Is(i + 1, LayerKind.Residual) ? i + 2 : i + 1;
                    bool sign = Is(next, LayerKind.QActivation) && layers[next].ActivationBits == 1;
                    Add(new PlanStep(PlanOp.Add, name, name, layer.InputShape, layer.OutputShape, false)
                    { Shortcut = shortcutValue.Step, PackSign = sign }, mainValue.Step);
                    continue;
                }
                case LayerKind.Flatten:
                    if (!value.Floats)
                        ToFlatBits();
                    value = value with { Shape = layer.OutputShape, Last = name };
                    continue;
                case LayerKind.QConvolution or LayerKind.QFullyConnected when layer.WeightBits == 1:
                {
                    bool conv = layer.Kind == LayerKind.QConvolution;
                    var input = conv ? layer.InputShape : TensorShape.Vector((int)layer.InputShape.Elements);
                    if (!value.Bits)
                        Add(new PlanStep(PlanOp.Sign, name, value.Last, layer.InputShape, input, true));
                    else if (!conv)
                        ToFlatBits();
                    int j = i + 1;
                    string? norm = null, pool = null;
                    bool threshold = true;
                    if (Is(j, LayerKind.BatchNorm) && Is(j + 1, LayerKind.QActivation) && layers[j + 1].ActivationBits == 1)
                    {
                        norm = names[j];
                        j += 2;
                    }
                    else if (conv && Is(j, LayerKind.BatchNorm) && Is(j + 1, LayerKind.MaxPool) && Is(j + 2, LayerKind.QActivation)
                        && layers[j + 2].ActivationBits == 1)
                    {
                        norm = names[j];
                        pool = names[j + 1];
                        j += 3;
                    }
                    else
                    {
                        // a BatchNorm that no sign follows folds into the float output stage as scale + bias
                        j = FuseNorm(j, out norm);
                        threshold = false;
                    }
                    var op = conv ? PlanOp.XnorConv : PlanOp.XnorDense;
                    string stepLast = pool is null ? names[j - 1] : norm!;
                    Add(new PlanStep(op, name, stepLast, input, layer.OutputShape, threshold && norm is not null) { Norm = norm, Spec = layer },
                        value.Step);
                    if (pool is not null)
                    {
                        var poolLayer = layers[j - 2];
                        Add(new PlanStep(PlanOp.PackedMaxPool, pool, names[j - 1], poolLayer.InputShape, poolLayer.OutputShape, true)
                        { PoolKernel = poolLayer.Kernel, PoolStride = poolLayer.Stride });
                    }
                    value = value with { Shape = layers[j - 1].OutputShape, Last = names[j - 1] };
                    i = j - 1;
                    continue;
                }
                case LayerKind.QConvolution or LayerKind.QFullyConnected when layer.WeightBits != 32:
                {
                    ToFloats();
                    bool conv = layer.Kind == LayerKind.QConvolution;
                    var input = conv ? layer.InputShape : TensorShape.Vector((int)layer.InputShape.Elements);
                    int j = FuseNorm(i + 1, out string? norm);
                    Add(new PlanStep(conv ? PlanOp.BitSerialConv : PlanOp.BitSerialDense, name, names[j - 1], input, layers[j - 1].OutputShape, false)
                    { Norm = norm, Bits = layer.ActivationBits, Spec = layer });
                    i = j - 1;
                    continue;
                }
                case LayerKind.Convolution or LayerKind.QConvolution:
                {
                    ToFloats();
                    int j = FuseNorm(i + 1, out string? norm);
                    int poolKernel = 0, poolStride = 0;
                    if (Is(j, LayerKind.MaxPool))
                    {
                        poolKernel = layers[j].Kernel;
                        poolStride = layers[j].Stride;
                        j++;
                    }
                    bool sign = Is(j, LayerKind.QActivation) && layers[j].ActivationBits == 1;
                    if (sign)
                        j++;
                    Add(new PlanStep(PlanOp.FloatConv, name, names[j - 1], layer.InputShape, layers[j - 1].OutputShape, sign)
                    {
                        Norm = norm, Bias = layer.Kind == LayerKind.Convolution, PoolKernel = poolKernel, PoolStride = poolStride, Spec = layer,
                    });
                    i = j - 1;
                    continue;
                }
                case LayerKind.FullyConnected or LayerKind.QFullyConnected:
                {
                    var input = TensorShape.Vector((int)layer.InputShape.Elements);
                    bool bits = !value.Floats;
                    if (bits)
                        ToFlatBits();
                    Add(new PlanStep(bits ? PlanOp.BitsDense : PlanOp.FloatDense, name, name, input, layer.OutputShape, false)
                    { Bias = layer.Kind == LayerKind.FullyConnected, Spec = layer });
                    continue;
                }
                case LayerKind.QActivation when layer.ActivationBits == 1:
                    if (!value.Bits)
                        Add(new PlanStep(PlanOp.Sign, name, name, layer.InputShape, layer.OutputShape, true));
                    value = value with { Floats = false, Shape = layer.OutputShape, Last = name };
                    continue;
                case LayerKind.QActivation:
                    // a k-bit layer right after quantizes its input to the same codes itself
                    if (i + 1 < n && layers[i + 1] is { Kind: LayerKind.QConvolution or LayerKind.QFullyConnected } consumer
                        && consumer.WeightBits is > 1 and < 32 && consumer.ActivationBits == layer.ActivationBits)
                        continue;
                    ToFloats();
                    Add(new PlanStep(PlanOp.Quantize, name, name, layer.InputShape, layer.OutputShape, false) { Bits = layer.ActivationBits });
                    continue;
                case LayerKind.MaxPool:
                {
                    bool bits = !value.Floats;
                    Add(new PlanStep(bits ? PlanOp.PackedMaxPool : PlanOp.MaxPool, name, name, layer.InputShape, layer.OutputShape, bits)
                    { PoolKernel = layer.Kernel, PoolStride = layer.Stride });
                    continue;
                }
                case LayerKind.AvgPool:
                    ToFloats();
                    Add(new PlanStep(PlanOp.AvgPool, name, name, layer.InputShape, layer.OutputShape, false)
                    { PoolKernel = layer.Kernel, PoolStride = layer.Stride });
                    continue;
                case LayerKind.GlobalAvgPool:
                    ToFloats();
                    Add(new PlanStep(PlanOp.GlobalAvgPool, name, name, layer.InputShape, layer.OutputShape, false));
                    continue;
                case LayerKind.ReLU:
                    ToFloats();
                    Add(new PlanStep(PlanOp.ReLU, name, name, layer.InputShape, layer.OutputShape, false));
                    continue;
                case LayerKind.BatchNorm:
                    ToFloats();
                    Add(new PlanStep(PlanOp.Affine, name, name, layer.InputShape, layer.OutputShape, false) { Norm = name });
                    continue;
            }
        }
        ToFloats();
        return steps;
    }

    /// <summary>The values between steps: written by <paramref name="Step"/>, as floats and/or bits.</summary>
    private readonly record struct Value(int Step, bool Floats, bool Bits, TensorShape Shape, string Last);

    /// <summary>
    /// Every buffer the interpreter sizes comes from the spec's shapes, so they must be exactly what shape inference
    /// computes; pooling runs unpadded, as the generated training code runs it.
    /// </summary>
    private static void CheckShapes(NetworkSpec spec)
    {
        InferenceResult inferred;
        try
        {
            inferred = ShapeInference.Infer(spec with
            {
                Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l with { InputShape = default, OutputShape = default })),
            });
        }
        catch (OverflowException ex)
        {
            throw new ArgumentException($"Network '{spec.Name}' has layer sizes whose shapes overflow 32-bit integers; describe a network the DSL accepts.", nameof(spec), ex);
        }
        if (!inferred.Succeeded)
            throw new ArgumentException($"Network '{spec.Name}' is not valid ({inferred.Diagnostics[0].Id}: {inferred.Diagnostics[0].Message}); describe a network the DSL accepts.", nameof(spec));
        var names = LayerNames(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var declared = spec.Layers[i];
            var expected = inferred.Network.Layers[i];
            if (declared.InputShape != expected.InputShape || declared.OutputShape != expected.OutputShape)
                throw new ArgumentException(
                    $"Layer '{names[i]}' of network '{spec.Name}' claims shapes {declared.InputShape} -> {declared.OutputShape} but its options give "
                    + $"{expected.InputShape} -> {expected.OutputShape}; use the spec that shape inference produced.", nameof(spec));
            if (declared.Kind is LayerKind.MaxPool or LayerKind.AvgPool && declared.Pad != 0)
                throw new NotSupportedException($"Layer '{names[i]}' ({declared.Kind}) has padding {declared.Pad}, which the packed-model interpreter does not run; use unpadded pooling.");
        }
    }

    /// <summary>Refuses the bit widths the interpreter does not run: 9..31 bits (quantize-dequantize in float, no speed gain).</summary>
    private static void CheckBits(LayerSpec layer, string name)
    {
        static bool Runs(int bits) => bits is >= 1 and <= 8 or 32;
        if (layer.Kind == LayerKind.QActivation && !Runs(layer.ActivationBits))
            throw Unsupported(name, layer, $"quantizes to {layer.ActivationBits} bits", "use QActivation(1..8)");
        if (layer.Kind is LayerKind.QConvolution or LayerKind.QFullyConnected)
        {
            bool binary = layer.WeightBits == 1 && layer.ActivationBits == 1;
            bool lowBit = layer.WeightBits is >= 2 and <= 8 && layer.ActivationBits is >= 2 and <= 8;
            bool full = layer.WeightBits == 32 && layer.ActivationBits == 32;
            if (!binary && !lowBit && !full)
                throw Unsupported(name, layer, $"has {layer.WeightBits}-bit weights and {layer.ActivationBits}-bit activations",
                    "use WeightBits = ActBits = 1 (XNOR), both in 2..8 (bit-serial) or both 32 (float)");
        }
    }

    private static NotSupportedException Unsupported(string name, LayerSpec layer, string problem, string fix) =>
        new($"Layer '{name}' ({layer.Kind}) {problem}, which the packed-model interpreter does not run; {fix}.");
}
