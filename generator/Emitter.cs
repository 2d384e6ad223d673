// Renders a GenerationTarget through the embedded Scriban template; sees only the model, never a Roslyn symbol.
using System;
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

    public static string Emit(GenerationTarget target)
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
            ["backward_calls"] = new ScriptArray(Enumerable.Range(0, plan.Calls.Count).Reverse()
                .Where(i => plan.Calls[i].Type is not null && plan.Calls[i].Number >= plan.FirstTrainable)
                .Select(i => calls[i])),
            ["activations"] = new ScriptArray(plan.Activations.Select(Buffer)),
            ["gradients"] = new ScriptArray(plan.Gradients.Select(Buffer)),
            ["layer_fields"] = string.Join(", ", plan.Calls.Where(c => c.Type is not null).Select(c => c.Field)),
            ["layer_outputs"] = string.Join(", ", plan.Calls.Where(c => c.Type is not null).Select(c => c.Output)),
            ["logits"] = plan.Logits,
            ["any_line"] = plan.Calls.Any(c => c.Layer.Location is not null),
        };
        var context = new TemplateContext { StrictVariables = true, LoopLimit = 0, MemberRenamer = member => member.Name };
        context.PushGlobal(model);
        return NetworkTemplate.Render(context);
    }

    private static ScriptObject Call(LayerCall call)
    {
        var layer = call.Layer;
        var location = layer.Location;
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
            ["input"] = call.Input,
            ["output"] = call.Output,
            ["input_gradient"] = call.InputGradient,
            ["output_gradient"] = call.OutputGradient,
            ["input_text"] = layer.InputShape.ToString(),
            ["output_text"] = layer.OutputShape.ToString(),
            ["line"] = location is null ? null : (object)(location.Line + 1),
            ["file"] = location is null ? null : Literal(location.FilePath),
        };
    }

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
