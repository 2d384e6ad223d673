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
    /// <exception cref="NotSupportedException">A layer has bit widths the interpreter does not run (only 1 and 32 are supported), or a padded pooling.</exception>
    public static IReadOnlyList<PlanStep> Plan(NetworkSpec spec)
    {
        if (spec is null)
            throw new ArgumentNullException(nameof(spec));
        CheckShapes(spec);
        var layers = spec.Layers;
        var names = LayerNames(spec);
        // Checked up front: the fused steps below take a QActivation after a convolution as a sign without visiting it.
        for (int i = 0; i < layers.Count; i++)
            if (layers[i].Kind == LayerKind.QActivation && layers[i].ActivationBits != 1)
                throw Unsupported(names[i], layers[i], $"quantizes to {layers[i].ActivationBits} bits", "use QActivation(1)");
        var steps = new List<PlanStep>();
        bool bits = false;
        var shape = spec.Input;
        string last = "input";
        int current = -1;
        int n = layers.Count;

        bool Is(int j, LayerKind kind) => j < n && layers[j].Kind == kind;

        // Appends a step reading the current values; its output becomes the current values.
        void Add(PlanStep step)
        {
            steps.Add(step with { Index = steps.Count, Source = current });
            current = steps.Count - 1;
        }

        void ToFloats()
        {
            if (bits)
                Add(new PlanStep(PlanOp.Unpack, last, last, shape, shape, false));
            bits = false;
        }

        void ToFlatBits()
        {
            if (shape.Rank == 3 && shape.Channels % 64 != 0 && shape.Height * shape.Width > 1)
            {
                var flat = TensorShape.Vector((int)shape.Elements);
                Add(new PlanStep(PlanOp.Repack, last, last, shape, flat, true));
                shape = flat;
            }
        }

        for (int i = 0; i < n; i++)
        {
            var layer = layers[i];
            string name = names[i];
            switch (layer.Kind)
            {
                case LayerKind.SoftmaxCrossEntropy:
                    continue;
                case LayerKind.Residual or LayerKind.Shortcut or LayerKind.EndResidual:
                    throw new NotSupportedException(
                        $"layer {i + 1} ({layer.Kind}) belongs to a residual block, which the packed format does not run yet; "
                        + "run the network through its generated class instead");
                case LayerKind.Flatten:
                    if (bits)
                        ToFlatBits();
                    break;
                case LayerKind.QConvolution or LayerKind.QFullyConnected when IsBinary(layer, name):
                {
                    bool conv = layer.Kind == LayerKind.QConvolution;
                    var input = conv ? layer.InputShape : TensorShape.Vector((int)layer.InputShape.Elements);
                    if (!bits)
                        Add(new PlanStep(PlanOp.Sign, name, last, layer.InputShape, input, true));
                    else if (!conv)
                        ToFlatBits();
                    int j = i + 1;
                    string? norm = null, pool = null;
                    if (Is(j, LayerKind.BatchNorm) && Is(j + 1, LayerKind.QActivation))
                    {
                        norm = names[j];
                        j += 2;
                    }
                    else if (conv && Is(j, LayerKind.BatchNorm) && Is(j + 1, LayerKind.MaxPool) && Is(j + 2, LayerKind.QActivation))
                    {
                        norm = names[j];
                        pool = names[j + 1];
                        j += 3;
                    }
                    else
                    {
                        j = i + 1;
                    }
                    var op = conv ? PlanOp.XnorConv : PlanOp.XnorDense;
                    string stepLast = pool is null ? names[j - 1] : norm!;
                    Add(new PlanStep(op, name, stepLast, input, layer.OutputShape, norm is not null) { Norm = norm, Spec = layer });
                    if (pool is not null)
                    {
                        var poolLayer = layers[j - 2];
                        Add(new PlanStep(PlanOp.PackedMaxPool, pool, names[j - 1], poolLayer.InputShape, poolLayer.OutputShape, true)
                        { PoolKernel = poolLayer.Kernel, PoolStride = poolLayer.Stride });
                    }
                    bits = norm is not null;
                    last = names[j - 1];
                    shape = layers[j - 1].OutputShape;
                    i = j - 1;
                    continue;
                }
                case LayerKind.Convolution or LayerKind.QConvolution:
                {
                    ToFloats();
                    int j = i + 1;
                    string? norm = null;
                    int poolKernel = 0, poolStride = 0;
                    if (Is(j, LayerKind.BatchNorm))
                        norm = names[j++];
                    if (Is(j, LayerKind.MaxPool))
                    {
                        poolKernel = layers[j].Kernel;
                        poolStride = layers[j].Stride;
                        j++;
                    }
                    bool sign = Is(j, LayerKind.QActivation);
                    if (sign)
                        j++;
                    Add(new PlanStep(PlanOp.FloatConv, name, names[j - 1], layer.InputShape, layers[j - 1].OutputShape, sign)
                    {
                        Norm = norm, Bias = layer.Kind == LayerKind.Convolution, PoolKernel = poolKernel, PoolStride = poolStride, Spec = layer,
                    });
                    bits = sign;
                    last = names[j - 1];
                    shape = layers[j - 1].OutputShape;
                    i = j - 1;
                    continue;
                }
                case LayerKind.FullyConnected or LayerKind.QFullyConnected:
                {
                    var input = TensorShape.Vector((int)layer.InputShape.Elements);
                    if (bits)
                        ToFlatBits();
                    Add(new PlanStep(bits ? PlanOp.BitsDense : PlanOp.FloatDense, name, name, input, layer.OutputShape, false)
                    { Bias = layer.Kind == LayerKind.FullyConnected, Spec = layer });
                    bits = false;
                    break;
                }
                case LayerKind.QActivation:
                    if (!bits)
                        Add(new PlanStep(PlanOp.Sign, name, name, layer.InputShape, layer.OutputShape, true));
                    bits = true;
                    break;
                case LayerKind.MaxPool:
                    Add(new PlanStep(bits ? PlanOp.PackedMaxPool : PlanOp.MaxPool, name, name, layer.InputShape, layer.OutputShape, bits)
                    { PoolKernel = layer.Kernel, PoolStride = layer.Stride });
                    break;
                case LayerKind.AvgPool:
                    ToFloats();
                    Add(new PlanStep(PlanOp.AvgPool, name, name, layer.InputShape, layer.OutputShape, false)
                    { PoolKernel = layer.Kernel, PoolStride = layer.Stride });
                    break;
                case LayerKind.GlobalAvgPool:
                    ToFloats();
                    Add(new PlanStep(PlanOp.GlobalAvgPool, name, name, layer.InputShape, layer.OutputShape, false));
                    break;
                case LayerKind.ReLU:
                    ToFloats();
                    Add(new PlanStep(PlanOp.ReLU, name, name, layer.InputShape, layer.OutputShape, false));
                    break;
                case LayerKind.BatchNorm:
                    ToFloats();
                    Add(new PlanStep(PlanOp.Affine, name, name, layer.InputShape, layer.OutputShape, false) { Norm = name });
                    break;
            }
            last = name;
            shape = layer.OutputShape;
        }
        ToFloats();
        return steps;
    }

    /// <summary>
    /// Every buffer the interpreter sizes comes from the spec's shapes, so they must be exactly what shape inference
    /// computes; pooling runs unpadded, as the generated training code runs it.
    /// </summary>
    private static void CheckShapes(NetworkSpec spec)
    {
        var inferred = ShapeInference.Infer(spec with
        {
            Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l with { InputShape = default, OutputShape = default })),
        });
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

    private static bool IsBinary(LayerSpec layer, string name)
    {
        if (layer.WeightBits == 1 && layer.ActivationBits == 1)
            return true;
        if (layer.WeightBits == 32 && layer.ActivationBits == 32)
            return false;
        throw Unsupported(name, layer, $"has {layer.WeightBits}-bit weights and {layer.ActivationBits}-bit activations",
            "use WeightBits = ActBits = 1 (XNOR) or 32 (float)");
    }

    private static NotSupportedException Unsupported(string name, LayerSpec layer, string problem, string fix) =>
        new($"Layer '{name}' ({layer.Kind}) {problem}, which the packed-model interpreter does not run; {fix}.");
}
