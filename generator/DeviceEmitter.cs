// The lines of a network's generated device inference class (emitted when the project references BnnDsl.Runtime.Gpu):
// one DeviceOps call per plan step with literal shapes, on the buffers and uploaded weights of DeviceRunner.
using System;
using System.Collections.Generic;
using System.Globalization;
using BnnDsl.Deployment;

namespace BnnDsl.Generator;

internal static class DeviceEmitter
{
    /// <summary>The type the generated class derives from; its presence in the compilation turns the class on.</summary>
    public const string BaseMetadataName = "BnnDsl.Runtime.Devices.DevicePackedNetwork";

    private const string Ops = "global::BnnDsl.Runtime.Devices.DeviceOps.";
    private const string Cpu = "global::BnnDsl.Kernels.Cpu.";

    /// <summary>The statements of <c>RunSteps(int count)</c>, or null when the planner refuses the network (no packed class either).</summary>
    public static IReadOnlyList<PackedStep>? Create(NetworkSpec spec)
    {
        if (PackedEmitter.Refusal(spec) is not null)
            return null;
        var steps = PackedPlan.Plan(spec);
        var locations = PackedEmitter.Locations(spec);
        var code = new List<PackedStep>();
        foreach (var step in steps)
            code.Add(new PackedStep(locations.TryGetValue(step.Layer, out var location) ? location : null,
                Invariant($"{Call(step)}; // {step.Index + 1}. {step}")));
        return code;
    }

    /// <summary>The DeviceOps call of <paramref name="step"/>, as DeviceSession makes it with the shapes read from the plan.</summary>
    private static string Call(PlanStep step)
    {
        var input = step.Input;
        var output = step.Output;
        var layer = step.Spec;
        string x = step.InputBits ? Bits(step.Source) : Floats(step.Source);
        string y = step.OutputFloats ? Floats(step.Index) : Bits(step.Index);
        string w = Invariant($"Weights({step.Index})");
        long inElements = input.Elements, outElements = output.Elements;
        switch (step.Op)
        {
            case PlanOp.Sign:
                return Invariant($"{Ops}Sign(Gpu, {x}, {PackedEmitter.Rows(output, input)}, {output.Channels}, {y})");
            case PlanOp.Unpack:
                return Invariant($"{Ops}Unpack(Gpu, {x}, {PackedEmitter.Rows(output, output)}, {output.Channels}, {y})");
            case PlanOp.Repack:
                return Invariant($"{Ops}Repack(Gpu, {x}, count, {input.Height * input.Width}, {input.Channels}, {y})");
            case PlanOp.FloatConv:
            {
                string floats = step.OutputBits ? Invariant($"FloatScratch.SubView(0, count * {outElements}L)") : y;
                string bits = step.OutputBits ? y : "default";
                return Invariant($"{Ops}FloatConv(Gpu, {x}, count, {PackedEmitter.ConvShape(layer!)}, {w}.Weight, {w}.Bias, {w}.Scale, {w}.Shift, {step.PoolKernel}, {step.PoolStride}, {floats}, {bits})");
            }
            case PlanOp.FloatDense:
                return Invariant($"{Ops}FloatDense(Gpu, {x}, count, {inElements}, {layer!.Units}, {w}.Weight, {w}.Bias, {y})");
            case PlanOp.BitsDense:
                return Invariant($"{Ops}BitsDense(Gpu, {x}, count, {inElements}, {layer!.Units}, {w}.Weight, {w}.Bias, FloatScratch, {y})");
            case PlanOp.Affine:
                return Invariant($"{Ops}Affine(Gpu, {x}, count * {input.Height * input.Width}, {input.Channels}, {w}.Scale, {w}.Shift, {y})");
            case PlanOp.MaxPool:
                return Invariant($"{Ops}MaxPool(Gpu, {PackedEmitter.PoolShape(step)}, {x}, {y}, ArgmaxScratch)");
            case PlanOp.AvgPool:
                return Invariant($"{Ops}AvgPool(Gpu, {PackedEmitter.PoolShape(step)}, {x}, {y})");
            case PlanOp.GlobalAvgPool:
                return Invariant($"{Ops}GlobalAvgPool(Gpu, count, {input.Height}, {input.Width}, {input.Channels}, {x}, {y})");
            case PlanOp.ReLU:
                return Invariant($"{Ops}ReLU(Gpu, {x}, count * {inElements}, {y})");
            case PlanOp.PackedMaxPool:
                return Invariant($"{Ops}PackedMaxPool(Gpu, {x}, {PackedEmitter.PoolShape(step)}, {y})");
            case PlanOp.XnorConv:
            {
                string padding = layer!.Padding == Padding.Zero ? "Zero" : "One";
                return Invariant($"{Ops}XnorConv(Gpu, {x}, {PackedEmitter.ConvShape(layer, "count")}, {Cpu}BinaryPadding.{padding}, {w}.Packed, {XnorOutput(step, w)}, {y})");
            }
            case PlanOp.XnorDense:
                return Invariant($"{Ops}XnorDense(Gpu, {x}, count, {inElements}, {layer!.Units}, {w}.Packed, {XnorOutput(step, w)}, {y})");
            case PlanOp.Add:
            {
                string signs = step.PackSign ? Bits(step.Index) : "default";
                return Invariant($"{Ops}Add(Gpu, {x}, {Floats(step.Shortcut)}, {y}, count * {outElements}, {output.Channels}, {signs})");
            }
            case PlanOp.Quantize:
                return Invariant($"{Ops}Quantize(Gpu, {x}, count * {inElements}, {step.Bits}, {y})");
            case PlanOp.BitSerialConv:
                return Invariant($"{Ops}BitSerialConv(Gpu, {x}, count, {PackedEmitter.ConvShape(layer!)}, {step.Bits}, {w}.Packed, {layer!.WeightBits}, PlaneScratch, {w}.Scale, {w}.Shift, {y})");
            default:
                return Invariant($"{Ops}BitSerialDense(Gpu, {x}, count, {inElements}, {layer!.Units}, {step.Bits}, {w}.Packed, {layer.WeightBits}, PlaneScratch, {w}.Scale, {w}.Shift, {y})");
        }
    }

    /// <summary>An XNOR step's output arguments: its thresholds, or the float output stage's scale and shift.</summary>
    private static string XnorOutput(PlanStep step, string w) =>
        step.OutputBits ? Invariant($"{w}.Threshold") : Invariant($"{w}.Scale, {w}.Shift");

    private static string Floats(int step) => Invariant($"Floats({step}, count)");

    private static string Bits(int step) => Invariant($"Bits({step}, count)");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
