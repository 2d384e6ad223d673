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
        };
        var context = new TemplateContext { StrictVariables = true, LoopLimit = 0, MemberRenamer = member => member.Name };
        context.PushGlobal(model);
        return NetworkTemplate.Render(context);
    }

    private static ScriptObject Names() => new()
    {
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
