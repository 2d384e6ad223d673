// Derives, at compile time, the packed plan of a network (BnnDsl.Deployment.PackedPlan) and the lines of its generated
// packed inference class: one field per decoded tensor, step buffers shared as the interpreter shares them, one
// PackedOps call per step with literal shapes, each reading its source step's output (the plan is a DAG).
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
    string Logits, string? FloatScratch, string? PlaneScratch);

internal static class PackedEmitter
{
    private const string Ops = "global::BnnDsl.Runtime.Deployment.PackedOps.";
    private const string Deployment = "global::BnnDsl.Runtime.Deployment.";
    private const string Cpu = "global::BnnDsl.Kernels.Cpu.";

    /// <summary>Why <paramref name="spec"/> gets no packed class (the planner refuses it), or null when the class is generated.</summary>
    public static string? Refusal(NetworkSpec spec)
    {
        try
        {
            PackedPlan.Plan(spec);
            return null;
        }
        catch (Exception ex) when (ex is NotSupportedException or ArgumentException)
        {
            return ex.Message;
        }
    }

    /// <summary>The packed class of <paramref name="spec"/>, or null when the planner refuses the network.</summary>
    public static PackedClass? Create(NetworkSpec spec)
    {
        if (Refusal(spec) is not null)
            return null;
        var steps = PackedPlan.Plan(spec);
        var locations = Locations(spec);
        var floats = new Buffers(steps, s => s.OutputFloats, s => (int)s.Output.Elements, "f");
        var bits = new Buffers(steps, s => s.HasBits, s => PackedPlan.Words(s.Output), "b");
        var fields = new List<PackedField>();
        var code = new List<PackedStep>();
        var scratch = new Scratch();
        foreach (var step in steps)
        {
            string x = step.Source < 0 ? "input" : step.InputBits ? bits.Slice(step.Source) : floats.Slice(step.Source);
            string y = step.OutputBits ? bits.Slice(step.Index) : floats.Slice(step.Index);
            string call = Call(step, x, y, step.PackSign ? bits.Slice(step.Index) : "default",
                step.Op == PlanOp.Add ? (step.Shortcut < 0 ? "input" : floats.Slice(step.Shortcut)) : "", fields, scratch);
            code.Add(new PackedStep(locations.TryGetValue(step.Layer, out var location) ? location : null,
                Invariant($"{call}; // {step.Index + 1}. {step}")));
        }
        var buffers = floats.Fields("float").Concat(bits.Fields("ulong")).ToList();
        return new PackedClass(PackedPlan.Text(steps), fields, buffers, code, floats.Name(steps.Count - 1),
            Max(scratch.Floats), Max(scratch.Planes));
    }

    /// <summary>Each layer's declaration by layer name, for the steps' #line directives.</summary>
    internal static Dictionary<string, SourceLocation?> Locations(NetworkSpec spec)
    {
        var names = PackedPlan.LayerNames(spec);
        var locations = new Dictionary<string, SourceLocation?>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
            locations[names[i]] = spec.Layers[i].Location;
        return locations;
    }

    /// <summary>The largest of <paramref name="lengths"/> as one expression, or null for none.</summary>
    private static string? Max(List<string> lengths) =>
        lengths.Count == 0 ? null : lengths.Skip(1).Aggregate(lengths[0], (max, next) => Invariant($"global::System.Math.Max({max}, {next})"));

    /// <summary>Per-lane scratch lengths the steps need, as expressions of <c>lane</c> and the step fields.</summary>
    private sealed class Scratch
    {
        public List<string> Floats { get; } = new();

        public List<string> Planes { get; } = new();
    }

    /// <summary>
    /// The step buffers of one kind (floats or packed bits), shared as the interpreter shares them: a step takes a
    /// buffer every reader of whose last occupant has run, or a new one; the last step gets its own. A buffer's
    /// stride is the largest per-sample length of its occupants.
    /// </summary>
    private sealed class Buffers
    {
        private readonly string prefix;
        private readonly int[] bufferOf;
        private readonly int[] perSample;
        private readonly List<int> strides = new();

        public Buffers(IReadOnlyList<PlanStep> steps, Func<PlanStep, bool> writes, Func<PlanStep, int> length, string prefix)
        {
            this.prefix = prefix;
            int n = steps.Count;
            var lastUse = new int[n];
            for (int i = 0; i < n; i++)
            {
                lastUse[i] = i;
                if (steps[i].Source >= 0)
                    lastUse[steps[i].Source] = i;
                if (steps[i].Op == PlanOp.Add && steps[i].Shortcut >= 0)
                    lastUse[steps[i].Shortcut] = i;
            }
            bufferOf = new int[n];
            perSample = new int[n];
            var occupant = new List<int>();
            for (int i = 0; i < n; i++)
            {
                bufferOf[i] = -1;
                if (!writes(steps[i]))
                    continue;
                int buffer = -1;
                if (i < n - 1)
                    for (int b = 0; b < occupant.Count && buffer < 0; b++)
                        if (lastUse[occupant[b]] < i)
                            buffer = b;
                if (buffer < 0)
                {
                    strides.Add(0);
                    occupant.Add(i);
                    buffer = strides.Count - 1;
                }
                occupant[buffer] = i;
                perSample[i] = length(steps[i]);
                strides[buffer] = Math.Max(strides[buffer], perSample[i]);
                bufferOf[i] = buffer;
            }
        }

        /// <summary>The field holding step <paramref name="step"/>'s output.</summary>
        public string Name(int step) => prefix + (bufferOf[step] + 1).ToString(CultureInfo.InvariantCulture);

        /// <summary>The lane's samples of step <paramref name="step"/>'s output.</summary>
        public string Slice(int step) => Invariant($"Slice({Name(step)}, start, count, {strides[bufferOf[step]]}, {perSample[step]})");

        /// <summary>The buffer fields, sized for batchSize samples.</summary>
        public IEnumerable<PackedField> Fields(string type) =>
            strides.Select((stride, b) => new PackedField(type, prefix + (b + 1).ToString(CultureInfo.InvariantCulture), Invariant($"batchSize * {stride}")));
    }

    /// <summary>The model's decoded tensors of <paramref name="step"/>.</summary>
    private static string Weights(PlanStep step) => Invariant($"StepWeights({step.Index})");

    /// <summary>The PackedOps call of <paramref name="step"/>; adds the fields and scratch it reads.</summary>
    private static string Call(PlanStep step, string x, string y, string signs, string shortcut, List<PackedField> fields, Scratch scratch)
    {
        var input = step.Input;
        var output = step.Output;
        var layer = step.Spec;
        string name = step.Layer;
        string weights = Weights(step);
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
                fields.Add(new PackedField(Deployment + "FloatConvWeights", name, weights + ".Conv!"));
                string floats = step.OutputBits ? "default" : y, packed = step.OutputBits ? y : "default";
                return Invariant($"{Ops}FloatConv({x}, count, {name}, {step.PoolKernel}, {step.PoolStride}, {floats}, {packed}, Path, threads)");
            }
            case PlanOp.FloatDense or PlanOp.BitsDense:
            {
                fields.Add(new PackedField("float[]", name + "Weight", weights + ".Weight"));
                if (step.Bias)
                    fields.Add(new PackedField("float[]", name + "Bias", weights + ".Bias"));
                string bias = step.Bias ? name + "Bias" : "default";
                int inputs = (int)input.Elements;
                if (step.Op == PlanOp.FloatDense)
                    return Invariant($"{Ops}FloatDense({x}, count, {inputs}, {layer!.Units}, {name}Weight, {bias}, {y}, Path, threads)");
                scratch.Floats.Add(Invariant($"LaneCapacity(lane) * {inputs}"));
                return Invariant($"{Ops}BitsDense({x}, count, {inputs}, {layer!.Units}, {name}Weight, {bias}, floatScratch[lane], {y}, Path, threads)");
            }
            case PlanOp.Affine:
                fields.Add(new PackedField("float[]", name + "Scale", weights + ".Scale"));
                fields.Add(new PackedField("float[]", name + "Shift", weights + ".Shift"));
                return Invariant($"{Ops}Affine({x}, {name}Scale, {name}Shift, {y})");
            case PlanOp.MaxPool:
                return Invariant($"{Ops}MaxPool({PoolShape(step)}, {x}, {y}, Path, threads)");
            case PlanOp.AvgPool:
                return Invariant($"{Ops}AvgPool({PoolShape(step)}, {x}, {y}, Path, threads)");
            case PlanOp.GlobalAvgPool:
                return Invariant($"{Ops}GlobalAvgPool(count, {input.Height}, {input.Width}, {input.Channels}, {x}, {y})");
            case PlanOp.ReLU:
                return Invariant($"{Ops}ReLU({x}, {y}, threads)");
            case PlanOp.PackedMaxPool:
                return Invariant($"{Ops}PackedMaxPool({x}, {PoolShape(step)}, {y}, Path, threads)");
            case PlanOp.XnorConv:
            {
                string padding = layer!.Padding == Padding.Zero ? "Zero" : "One";
                fields.Add(new PackedField(Deployment + "XnorConvPlans", name, Invariant(
                    $"new {Deployment}XnorConvPlans(this, {ConvShape(layer)}, {weights}.ConvWeights!, {Cpu}BinaryPadding.{padding})")));
                return Invariant($"{Ops}XnorConv({x}, {name}.Plan(count), {name}.Scratch(lane), {XnorOutput(step, name, fields)}, {y}, Path, threads)");
            }
            case PlanOp.XnorDense:
                fields.Add(new PackedField(Cpu + "XnorPackedB", name, weights + ".DenseWeights!"));
                return Invariant($"{Ops}XnorDense({x}, count, {name}, {XnorOutput(step, name, fields)}, {y}, Path, threads)");
            case PlanOp.Add:
                return Invariant($"{Ops}Add({x}, {shortcut}, {y}, {output.Channels}, {signs})");
            case PlanOp.Quantize:
                return Invariant($"{Ops}Quantize({x}, {step.Bits}, {y})");
            case PlanOp.BitSerialConv:
                fields.Add(new PackedField(Deployment + "BitSerialWeights", name, weights + ".BitSerial!"));
                scratch.Floats.Add(Invariant($"{Ops}BitSerialColumnsLength({name})"));
                scratch.Planes.Add(Invariant($"{Ops}BitSerialPlanesLength({name}, 1)"));
                return Invariant($"{Ops}BitSerialConv({x}, count, {name}, floatScratch[lane], planeScratch[lane], {y}, Path, threads)");
            default:
                fields.Add(new PackedField(Deployment + "BitSerialWeights", name, weights + ".BitSerial!"));
                scratch.Planes.Add(Invariant($"{Ops}BitSerialPlanesLength({name}, LaneCapacity(lane))"));
                return Invariant($"{Ops}BitSerialDense({x}, count, {name}, planeScratch[lane], {y}, Path, threads)");
        }
    }

    /// <summary>An XNOR step's output arguments: its thresholds, or the float output stage's scale and bias (a folded BatchNorm, or ones and zeros).</summary>
    private static string XnorOutput(PlanStep step, string name, List<PackedField> fields)
    {
        string weights = Weights(step);
        if (step.OutputBits)
        {
            fields.Add(new PackedField("int[]", name + "Threshold", weights + ".Threshold"));
            return name + "Threshold";
        }
        fields.Add(new PackedField("float[]", name + "Scale", weights + ".Scale"));
        fields.Add(new PackedField("float[]", name + "Shift", weights + ".Shift"));
        return Invariant($"{name}Scale, {name}Shift");
    }

    /// <summary>Rows of packed channels of count samples: positions of <paramref name="positions"/> for images, samples for vectors.</summary>
    internal static string Rows(TensorShape shape, TensorShape positions) =>
        shape.Rank == 3 ? Invariant($"count * {positions.Height * positions.Width}") : "count";

    /// <summary>The convolution's geometry for <paramref name="batch"/> images (an expression; one image by default).</summary>
    internal static string ConvShape(LayerSpec layer, string batch = "1")
    {
        var s = layer.InputShape;
        return Invariant($"new {Cpu}Conv2dShape({batch}, {s.Height}, {s.Width}, {s.Channels}, {layer.Units}, {layer.Kernel}, {layer.Kernel}, {layer.Stride}, {layer.Stride}, {layer.Pad}, {layer.Pad})");
    }

    /// <summary>The pooling geometry of <paramref name="step"/> for count samples.</summary>
    internal static string PoolShape(PlanStep step) => Invariant(
        $"new {Cpu}Pool2dShape(count, {step.Input.Height}, {step.Input.Width}, {step.Input.Channels}, {step.PoolKernel}, {step.PoolKernel}, {step.PoolStride}, {step.PoolStride}, 0, 0)");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
