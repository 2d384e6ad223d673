// Derives, at compile time, the packed plan of a network (BnnDsl.Deployment.PackedPlan) and the lines of its generated
// packed inference class: one field per tensor, one buffer per step, one PackedOps call per step with literal shapes.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using BnnDsl.Deployment;

namespace BnnDsl.Generator;

/// <summary>A field of the packed class and the constructor expression that fills it.</summary>
internal sealed record PackedField(string Type, string Name, string Value);

/// <summary>One step of the packed class: the declaration it runs (for #line) and its statement.</summary>
internal sealed record PackedStep(SourceLocation? Location, string Code);

/// <summary>The generated packed class of a network the planner accepts.</summary>
internal sealed record PackedClass(
    string PlanText, IReadOnlyList<PackedField> Fields, IReadOnlyList<PackedField> Buffers, IReadOnlyList<PackedStep> Steps,
    string Logits, int UnpackLength);

internal static class PackedEmitter
{
    private const string Ops = "global::BnnDsl.Runtime.Deployment.PackedOps.";
    private const string Cpu = "global::BnnDsl.Kernels.Cpu.";

    /// <summary>
    /// Why <paramref name="spec"/> gets no packed class: the planner refuses it, or its plan has a step this emitter
    /// does not write (an op added to the planner after it); null when the class is generated.
    /// </summary>
    public static string? Refusal(NetworkSpec spec)
    {
        IReadOnlyList<PlanStep> steps;
        try
        {
            steps = PackedPlan.Plan(spec);
        }
        catch (Exception ex) when (ex is NotSupportedException or ArgumentException)
        {
            return ex.Message;
        }
        foreach (var step in steps)
            if (!Writes(step))
                return Invariant($"step {step.Index + 1} of its packed plan ({step}) is not run by the generated Packed class yet; run its packed model with PackedModel.CreateSession");
        return null;
    }

    /// <summary>
    /// The steps this emitter writes: every op but an XNOR step writing floats through a folded BatchNorm (its
    /// float outputs here are the bare dot products).
    /// </summary>
    private static bool Writes(PlanStep step) => step.Op switch
    {
        PlanOp.Sign or PlanOp.Unpack or PlanOp.Repack or PlanOp.FloatConv or PlanOp.FloatDense or PlanOp.BitsDense or PlanOp.Affine
            or PlanOp.MaxPool or PlanOp.AvgPool or PlanOp.GlobalAvgPool or PlanOp.ReLU or PlanOp.PackedMaxPool => true,
        PlanOp.XnorConv or PlanOp.XnorDense => step.OutputBits || step.Norm is null,
        _ => false,
    };

    /// <summary>The packed class of <paramref name="spec"/>, or null when the planner refuses the network.</summary>
    public static PackedClass? Create(NetworkSpec spec)
    {
        if (Refusal(spec) is not null)
            return null;
        var steps = PackedPlan.Plan(spec);
        var names = PackedPlan.LayerNames(spec);
        var locations = new Dictionary<string, SourceLocation?>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
            locations[names[i]] = spec.Layers[i].Location;
        var fields = new List<PackedField>();
        var buffers = new List<PackedField>();
        var code = new List<PackedStep>();
        int unpack = 0;
        foreach (var step in steps)
        {
            string output = Buffer(step.Index);
            int perSample = step.OutputBits ? PackedPlan.Words(step.Output) : (int)step.Output.Elements;
            buffers.Add(new PackedField(step.OutputBits ? "ulong" : "float", output, Invariant($"batchSize * {perSample}")));
            string outSlice = Invariant($"Slice({output}, start, count, {perSample})");
            string inSlice = step.Source < 0 ? "input" : InputSlice(steps[step.Source]);
            string call = Call(step, inSlice, outSlice, fields, ref unpack);
            code.Add(new PackedStep(locations.TryGetValue(step.Layer, out var location) ? location : null,
                Invariant($"{call}; // {step.Index + 1}. {step}")));
        }
        return new PackedClass(PackedPlan.Text(steps), fields, buffers, code, Buffer(steps.Count - 1), unpack);
    }

    private static string Buffer(int index) => "s" + (index + 1).ToString(CultureInfo.InvariantCulture);

    private static string InputSlice(PlanStep source)
    {
        int perSample = source.OutputBits ? PackedPlan.Words(source.Output) : (int)source.Output.Elements;
        return Invariant($"Slice({Buffer(source.Index)}, start, count, {perSample})");
    }

    /// <summary>The PackedOps call of <paramref name="step"/>; adds the fields it reads.</summary>
    private static string Call(PlanStep step, string x, string y, List<PackedField> fields, ref int unpack)
    {
        var input = step.Input;
        var output = step.Output;
        var layer = step.Spec;
        string name = step.Layer;
        switch (step.Op)
        {
            case PlanOp.Sign:
                return Invariant($"{Ops}Sign({x}, {Rows(output, input)}, {output.Channels}, {y}, Path)");
            case PlanOp.Unpack:
                return Invariant($"{Ops}Unpack({x}, {Rows(output, output)}, {output.Channels}, {y})");
            case PlanOp.Repack:
                return Invariant($"{Ops}Repack({x}, count, {input.Height * input.Width}, {input.Channels}, {y})");
            case PlanOp.FloatConv:
            {
                string bias = step.Bias ? Invariant($"Floats(\"{step.Layer}.bias\")") : "null";
                string norm = step.Norm is null ? "null, null" : Invariant($"Floats(\"{step.Norm}.scale\"), Floats(\"{step.Norm}.shift\")");
                fields.Add(new PackedField("global::BnnDsl.Runtime.Deployment.FloatConvWeights", name, Invariant(
                    $"new global::BnnDsl.Runtime.Deployment.FloatConvWeights({ConvShape(layer!)}, Floats(\"{step.Layer}.weight\"), {bias}, {norm})")));
                string floats = step.OutputBits ? "default" : y, bits = step.OutputBits ? y : "default";
                return Invariant($"{Ops}FloatConv({x}, count, {name}, {step.PoolKernel}, {step.PoolStride}, {floats}, {bits}, Path, threads)");
            }
            case PlanOp.FloatDense or PlanOp.BitsDense:
            {
                fields.Add(new PackedField("float[]", name + "Weight", Invariant($"Floats(\"{step.Layer}.weight\")")));
                if (step.Bias)
                    fields.Add(new PackedField("float[]", name + "Bias", Invariant($"Floats(\"{step.Layer}.bias\")")));
                string bias = step.Bias ? name + "Bias" : "default";
                int inputs = (int)input.Elements;
                if (step.Op == PlanOp.FloatDense)
                    return Invariant($"{Ops}FloatDense({x}, count, {inputs}, {layer!.Units}, {name}Weight, {bias}, {y}, Path, threads)");
                unpack = Math.Max(unpack, inputs);
                return Invariant($"{Ops}BitsDense({x}, count, {inputs}, {layer!.Units}, {name}Weight, {bias}, unpacked[lane], {y}, Path, threads)");
            }
            case PlanOp.Affine:
                fields.Add(new PackedField("float[]", name + "Scale", Invariant($"Floats(\"{step.Layer}.scale\")")));
                fields.Add(new PackedField("float[]", name + "Shift", Invariant($"Floats(\"{step.Layer}.shift\")")));
                return Invariant($"{Ops}Affine({x}, {name}Scale, {name}Shift, {y})");
            case PlanOp.MaxPool:
                return Invariant($"{Ops}MaxPool({PoolShape(step)}, {x}, {y}, Path, threads)");
            case PlanOp.AvgPool:
                return Invariant($"{Ops}AvgPool({PoolShape(step)}, {x}, {y}, Path, threads)");
            case PlanOp.GlobalAvgPool:
                return Invariant($"{Ops}GlobalAvgPool(count, {input.Height}, {input.Width}, {input.Channels}, {x}, {y}, Path, threads)");
            case PlanOp.ReLU:
                return Invariant($"{Ops}ReLU({x}, {y}, threads)");
            case PlanOp.PackedMaxPool:
                return Invariant($"{Ops}PackedMaxPool({x}, {PoolShape(step)}, {y}, Path, threads)");
            case PlanOp.XnorConv:
            {
                var s = layer!.InputShape;
                string padding = layer.Padding == Padding.Zero ? "Zero" : "One";
                fields.Add(new PackedField("global::BnnDsl.Runtime.Deployment.XnorConvPlans", name, Invariant(
                    $"new global::BnnDsl.Runtime.Deployment.XnorConvPlans(this, {ConvShape(layer)}, {Cpu}BinaryConvWeights.FromPacked(Words(\"{step.Layer}.packed_weight\"), {layer.Units}, {layer.Kernel}, {layer.Kernel}, {s.Channels}), {Cpu}BinaryPadding.{padding})")));
                return Invariant($"{Ops}XnorConv({x}, {name}.Plan(count), {name}.Scratch(lane), {XnorOutput(step, name, layer.Units, fields)}, {y}, Path, threads)");
            }
            case PlanOp.XnorDense:
            {
                int inputs = (int)input.Elements;
                fields.Add(new PackedField(Cpu + "XnorPackedB", name, Invariant(
                    $"{Cpu}XnorPackedB.Pack(Words(\"{step.Layer}.packed_weight\"), {layer!.Units}, {PackedPlan.WordsFor(inputs)}, {inputs})")));
                return Invariant($"{Ops}XnorDense({x}, count, {name}, {XnorOutput(step, name, layer.Units, fields)}, {y}, Path, threads)");
            }
            default:
                throw new InvalidOperationException(Invariant($"Refusal lets no {step.Op} step through."));
        }
    }

    /// <summary>An XNOR step's output arguments: its thresholds, or ones and zeros (the bare dot products).</summary>
    private static string XnorOutput(PlanStep step, string name, int units, List<PackedField> fields)
    {
        if (step.OutputBits)
        {
            fields.Add(new PackedField("int[]", name + "Threshold", Invariant($"Ints(\"{step.Layer}.threshold\")")));
            return name + "Threshold";
        }
        fields.Add(new PackedField("float[]", name + "Scale", Invariant($"Ones({units})")));
        fields.Add(new PackedField("float[]", name + "Shift", Invariant($"new float[{units}]")));
        return Invariant($"{name}Scale, {name}Shift");
    }

    /// <summary>Rows of packed channels of count samples: positions of <paramref name="positions"/> for images, samples for vectors.</summary>
    private static string Rows(TensorShape shape, TensorShape positions) =>
        shape.Rank == 3 ? Invariant($"count * {positions.Height * positions.Width}") : "count";

    /// <summary>The convolution's geometry for one image.</summary>
    private static string ConvShape(LayerSpec layer)
    {
        var s = layer.InputShape;
        return Invariant($"new {Cpu}Conv2dShape(1, {s.Height}, {s.Width}, {s.Channels}, {layer.Units}, {layer.Kernel}, {layer.Kernel}, {layer.Stride}, {layer.Stride}, {layer.Pad}, {layer.Pad})");
    }

    private static string PoolShape(PlanStep step) => Invariant(
        $"new {Cpu}Pool2dShape(count, {step.Input.Height}, {step.Input.Width}, {step.Input.Channels}, {step.PoolKernel}, {step.PoolKernel}, {step.PoolStride}, {step.PoolStride}, 0, 0)");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
