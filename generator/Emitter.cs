// Renders a GenerationTarget through the embedded Scriban template; sees only the model, never a Roslyn symbol.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using Scriban;
using Scriban.Runtime;

namespace BnnDsl.Generator;

internal static class Emitter
{
    private static readonly Template NetworkTemplate = Load("Network.sbn");

    /// <summary>
    /// The generated source of <paramref name="target"/>; <paramref name="device"/> (the compilation references
    /// BnnDsl.Runtime.Gpu) adds the device inference class next to the packed one.
    /// </summary>
    public static string Emit(GenerationTarget target, bool device)
    {
        var spec = target.Spec;
        var plan = LayerPlanner.Plan(spec);
        var calls = plan.Calls.Select(Call).ToList();
        var model = new ScriptObject
        {
            ["namespace"] = target.Namespace,
            ["class_name"] = target.ClassName,
            ["declared_in"] = target.DeclaredIn,
            ["name_literal"] = Literal(spec.Name),
            ["input"] = Shape(spec.Input),
            ["location"] = Location(spec.Location),
            ["names"] = Names(),
            ["layers"] = new ScriptArray(spec.Layers.Select((layer, i) => new ScriptObject
            {
                ["number"] = i + 1,
                ["kind"] = layer.Kind.ToString(),
                ["units"] = layer.Units,
                ["kernel"] = layer.Kernel,
                ["stride"] = layer.Stride,
                ["pad"] = layer.Pad,
                ["padding"] = layer.Padding.ToString(),
                ["weight_bits"] = layer.WeightBits,
                ["activation_bits"] = layer.ActivationBits,
                ["location"] = Location(layer.Location),
                ["input"] = Shape(layer.InputShape),
                ["output"] = Shape(layer.OutputShape),
                ["input_text"] = layer.InputShape.ToString(),
                ["output_text"] = layer.OutputShape.ToString(),
            })),
            ["input_text"] = spec.Input.ToString(),
            ["input_length"] = plan.InputLength,
            ["output_length"] = plan.OutputLength,
            ["has_loss"] = plan.HasLoss ? "true" : "false",
            ["calls"] = new ScriptArray(calls),
            ["forward_steps"] = Statements(plan.Calls.Select(c => (c.Layer.Location, ForwardCode(c), c.Type is not null))),
            ["reference_steps"] = Statements(plan.Calls.Select(c => (c.Layer.Location, ReferenceCode(c), c.Type is not null))),
            ["backward_steps"] = Statements(plan.Backward.Select(s => (s.Call.Layer.Location, BackwardCode(s), true))),
            ["activations"] = new ScriptArray(plan.Activations.Select(Buffer)),
            ["gradients"] = new ScriptArray(plan.Gradients.Select(Buffer)),
            ["layer_fields"] = string.Join(", ", plan.Calls.Where(c => c.IsLayer).Select(c => c.Field)),
            ["layer_outputs"] = string.Join(", ", plan.Calls.Where(c => c.IsLayer).Select(c => c.Output)),
            ["logits"] = plan.Logits,
            ["any_line"] = plan.Calls.Any(c => c.Layer.Location is not null),
            ["packed"] = Packed(PackedEmitter.Create(spec)),
            ["device"] = device && DeviceEmitter.Create(spec) is { } deviceSteps
                ? new ScriptObject
                {
                    ["steps"] = Statements(deviceSteps.Select(s => (s.Location, s.Code, true))),
                    ["any_line"] = deviceSteps.Any(s => s.Location is not null),
                }
                : null,
        };
        var context = new TemplateContext { StrictVariables = true, LoopLimit = 0, MemberRenamer = member => member.Name };
        context.PushGlobal(model);
        return NetworkTemplate.Render(context);
    }

    /// <summary>
    /// The lines of a pass: each code line, preceded by a #line directive to its layer's declaration when it runs
    /// code and the directive differs from the previous one (a repeated layer's copies share their declaration).
    /// </summary>
    internal static ScriptArray Statements(IEnumerable<(SourceLocation? Location, string Code, bool Runs)> statements)
    {
        var lines = new ScriptArray();
        (int, string)? current = null;
        foreach (var (location, code, runs) in statements)
        {
            object? line = null, file = null;
            if (runs && location is not null && current != (location.Line, location.FilePath))
            {
                current = (location.Line, location.FilePath);
                (line, file) = (location.Line + 1, Literal(location.FilePath));
            }
            lines.Add(new ScriptObject { ["line"] = line, ["file"] = file, ["code"] = code });
        }
        return lines;
    }

    private static string Shapes(LayerCall call) => Invariant($"{call.Number}. {call.Layer.Kind}: {call.Layer.InputShape} -> {call.Layer.OutputShape}");

    private static string ForwardCode(LayerCall call) => call.Layer.Kind switch
    {
        LayerKind.Flatten => Invariant($"// {Shapes(call)} (same buffer)"),
        LayerKind.SoftmaxCrossEntropy => Invariant($"// {Shapes(call)} (in Loss)"),
        LayerKind.Residual => Invariant($"// {Shapes(call)} (block input: {call.Input})"),
        LayerKind.Shortcut => Invariant($"// {Shapes(call)} (the main path ends in {call.Input}; the shortcut reads the block input {call.Output})"),
        LayerKind.EndResidual => Invariant($"{call.Field}.Forward({call.Input}, {call.Shortcut}, {call.Output}); // {call.Number}. {call.Layer.Kind}: {call.Layer.OutputShape} + {call.Layer.OutputShape} -> {call.Layer.OutputShape}"),
        _ => Invariant($"{call.Field}.Forward({call.Input}, {call.Output}, training); // {Shapes(call)}"),
    };

    /// <summary>The forward statement in evaluation mode, with the float reference of a binary or k-bit layer.</summary>
    private static string ReferenceCode(LayerCall call) => call.HasFloatReference
        ? Invariant($"{call.Field}.ForwardReference({call.Input}, {call.Output}); // {Shapes(call)} (float reference)")
        : ForwardCode(call).Replace(", training);", ", training: false);");

    private static string BackwardCode(BackwardStep step)
    {
        var call = step.Call;
        string head = Invariant($"// {call.Number}. {call.Layer.Kind}: ");
        return step.Action switch
        {
            BackwardAction.Layer => Invariant($"{step.Object}.Backward({call.Input}, {call.Output}, {step.Gradient}, {step.Into}); {head}d{call.Layer.OutputShape} -> d{call.Layer.InputShape}"),
            BackwardAction.Pass => Invariant($"{step.Object}.Pass({step.Gradient}, {step.Into}); {head}d{call.Layer.OutputShape} flows unchanged into {step.Into}"),
            _ => Invariant($"{step.Object}.Accumulate({step.Into}, {step.Gradient}); {head}{step.Into} += {step.Gradient} (the block input's gradient sums both paths)"),
        };
    }

    private static ScriptObject Call(LayerCall call)
    {
        var layer = call.Layer;
        return new ScriptObject
        {
            ["number"] = call.Number,
            ["kind"] = layer.Kind.ToString(),
            ["bits_text"] = layer.WeightBits is > 0 and < 32 || layer.ActivationBits is > 0 and < 32
                ? Invariant($" ({Bits(layer.WeightBits, "weights")}{Bits(layer.ActivationBits, "activations")})").Replace(", )", ")")
                : "",
            ["field"] = call.Field,
            ["type"] = call.Type,
            ["arguments"] = call.Arguments,
            ["input_text"] = layer.InputShape.ToString(),
            ["output_text"] = layer.OutputShape.ToString(),
        };
    }

    /// <summary>The template model of the packed class, or null (no class) when the planner refuses the network.</summary>
    private static ScriptObject? Packed(PackedClass? packed) => packed is null ? null : new ScriptObject
    {
        ["plan_literal"] = Literal(packed.PlanText),
        ["plan_lines"] = new ScriptArray(packed.PlanText.Split('\n')),
        ["fields"] = new ScriptArray(packed.Fields.Select(Field)),
        ["buffers"] = new ScriptArray(packed.Buffers.Select(Field)),
        ["steps"] = Statements(packed.Steps.Select(s => (s.Location, s.Code, true))),
        ["logits"] = packed.Logits,
        ["float_scratch"] = packed.FloatScratch,
        ["plane_scratch"] = packed.PlaneScratch,
        ["any_line"] = packed.Steps.Any(s => s.Location is not null),
    };

    private static ScriptObject Field(PackedField field) => new()
    {
        ["type"] = field.Type,
        ["name"] = field.Name,
        ["value"] = field.Value,
    };

    private static string Bits(int bits, string what) => bits == 0 ? "" : Invariant($"{bits}-bit {what}, ");

    private static ScriptObject Buffer((string Name, int Length) buffer) => new()
    {
        ["name"] = buffer.Name,
        ["length"] = buffer.Length,
    };

    private static ScriptObject Names() => new()
    {
        ["network"] = GeneratedNames.Network,
        ["kernel_path"] = GeneratedNames.KernelPath,
        ["network_spec"] = GeneratedNames.NetworkSpec,
        ["layer_spec"] = GeneratedNames.LayerSpec,
        ["layer_kind"] = GeneratedNames.LayerKind,
        ["padding"] = GeneratedNames.Padding,
        ["equatable_array"] = GeneratedNames.EquatableArray,
        ["network_summary"] = GeneratedNames.NetworkSummary,
    };

    private static string Shape(TensorShape shape) => shape.Rank switch
    {
        3 => Invariant($"{GeneratedNames.TensorShape}.Image({shape.Channels}, {shape.Height}, {shape.Width})"),
        1 => Invariant($"{GeneratedNames.TensorShape}.Vector({shape.Channels})"),
        _ => GeneratedNames.TensorShape + ".Unknown",
    };

    private static string Location(SourceLocation? location) => location is null
        ? "null"
        : Invariant($"new {GeneratedNames.SourceLocation}({Literal(location.FilePath)}, {location.Start}, {location.Length}, {location.Line}, {location.Column}, {location.EndLine}, {location.EndColumn})");

    private static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static Template Load(string name)
    {
        using var stream = typeof(Emitter).Assembly.GetManifestResourceStream("BnnDsl.Generator.Templates." + name)
            ?? throw new InvalidOperationException($"Template resource '{name}' is missing from the generator assembly.");
        using var reader = new StreamReader(stream);
        var template = Template.Parse(reader.ReadToEnd(), name);
        if (template.HasErrors)
            throw new InvalidOperationException($"Template '{name}' does not parse: {string.Join("; ", template.Messages)}");
        return template;
    }
}
