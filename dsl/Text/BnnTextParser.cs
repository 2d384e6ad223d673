// Parses the .bnn text form of a network (grammar in docs/dsl.md) into a NetworkSpec, then infers its shapes.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace BnnDsl;

/// <summary>
/// Reads <c>.bnn</c> text: a <c>network Name input CxHxW</c> header, then one layer per line written
/// <c>LayerName key=value ...</c>, with <c>#</c> comments; <c>residual</c>, <c>shortcut</c>, <c>repeat N</c> and
/// <c>end</c> lines mark residual blocks and repeated layers (repeats are expanded here). Every problem is a <see cref="NetworkDiagnostic"/> located
/// at its line and column in the file.
/// </summary>
public static class BnnTextParser
{
    private const string HeaderExample = "network LeNet input 1x28x28";

    // The network name becomes a C# class name; contextual keywords are valid there, these are not.
    private static readonly HashSet<string> CSharpKeywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof",
        "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof", "uint",
        "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>
    /// Parses <paramref name="text"/> read from <paramref name="filePath"/>. With syntax errors, returns no network and
    /// every syntax error in line order; otherwise runs <see cref="ShapeInference"/> and returns its network (shapes
    /// filled in, <see cref="TensorShape.Unknown"/> after the first layer that does not fit) and its diagnostics.
    /// </summary>
    public static (NetworkSpec? Network, IReadOnlyList<NetworkDiagnostic> Diagnostics) Parse(string text, string filePath)
    {
        if (text is null)
            throw new ArgumentNullException(nameof(text));
        if (filePath is null)
            throw new ArgumentNullException(nameof(filePath));

        var parser = new Parser(filePath);
        var declared = parser.Run(BnnTextLexer.Lines(text));
        if (declared is null)
            return (null, parser.Diagnostics);
        var inferred = ShapeInference.Infer(declared);
        return (inferred.Network, inferred.Diagnostics.ToList());
    }

    private sealed class Parser(string filePath)
    {
        public List<NetworkDiagnostic> Diagnostics { get; } = [];

        public NetworkSpec? Run(List<List<BnnToken>> lines)
        {
            if (lines.Count == 0)
            {
                Syntax(new SourceLocation(filePath, 0, 0, 0, 0, 0, 0),
                    "The text declares no network", $"start with a header such as '{HeaderExample}'");
                return null;
            }

            string name = "";
            var input = TensorShape.Unknown;
            SourceLocation? networkLocation = null;
            var layers = new LayerListBuilder();
            var open = new List<(bool Repeat, BnnToken Token)>();
            int layerNumber = 0;
            foreach (var line in lines)
            {
                var first = line[0];
                if (first.Text == "network")
                {
                    if (networkLocation is not null || layerNumber > 0)
                        Syntax(At(first), "A second 'network' header", "declare one network per file, on its first line");
                    else
                        (name, input, networkLocation) = Header(line);
                    continue;
                }
                if (networkLocation is null && layerNumber == 0)
                    Syntax(At(first), $"'{first.Text}' comes before the 'network' header",
                        $"start the file with a header such as '{HeaderExample}'");
                layerNumber++;
                if (first.Text is "residual" or "shortcut" or "end" or "repeat")
                {
                    Block(line, layers, open);
                    continue;
                }
                var layer = Layer(line, layerNumber);
                if (layer is not null)
                    layers.Add(layer);
            }
            var flat = layers.Build();
            Diagnostics.AddRange(layers.Diagnostics);
            return Diagnostics.Count == 0
                ? new NetworkSpec(name, input, new EquatableArray<LayerSpec>(flat), networkLocation)
                : null;
        }

        // residual | shortcut | end | repeat N. 'end' closes the innermost open 'residual' or 'repeat'; whether
        // 'shortcut' and 'end' of a residual block balance is checked by ShapeInference on the expanded layers.
        private void Block(List<BnnToken> line, LayerListBuilder layers, List<(bool Repeat, BnnToken Token)> open)
        {
            var keyword = line[0];
            var location = Span(keyword, line[line.Count - 1]);
            int words = keyword.Text == "repeat" ? 2 : 1;
            for (int i = words; i < line.Count; i++)
                Syntax(At(line[i]), $"Unexpected '{line[i].Text}' after '{keyword.Text}'",
                    keyword.Text == "repeat" ? "write 'repeat N' alone on its line, e.g. 'repeat 2'" : $"write '{keyword.Text}' alone on its line");
            switch (keyword.Text)
            {
                case "residual":
                    open.Add((false, keyword));
                    layers.Add(new ResidualAttribute().ToLayerSpec(location));
                    break;
                case "shortcut":
                    layers.Add(new ShortcutAttribute().ToLayerSpec(location));
                    break;
                case "repeat":
                    if (line.Count < 2 || !int.TryParse(line[1].Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int count))
                    {
                        Syntax(line.Count < 2 ? At(keyword) : At(line[1]), line.Count < 2 ? "'repeat' has no count" : $"Repeat count '{line[1].Text}' is not an integer",
                            "write 'repeat N' with N at least 1, e.g. 'repeat 2'");
                        count = 1;
                    }
                    open.Add((true, keyword));
                    layers.BeginRepeat(count, location);
                    break;
                default:
                    if (open.Count == 0)
                    {
                        Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, location,
                            "'end' closes no open 'residual' or 'repeat'", "remove it, or open the block with 'residual' or 'repeat N' before its layers"));
                        break;
                    }
                    bool repeat = open[open.Count - 1].Repeat;
                    open.RemoveAt(open.Count - 1);
                    if (repeat)
                        layers.EndRepeat(location);
                    else
                        layers.Add(new EndResidualAttribute().ToLayerSpec(location));
                    break;
            }
        }

        // network NAME [input CxHxW]; a missing input is left Unknown for ShapeInference to report (BNN0002).
        private (string Name, TensorShape Input, SourceLocation Location) Header(List<BnnToken> line)
        {
            var location = Span(line[0], line[line.Count - 1]);
            if (line.Count < 2)
            {
                Syntax(At(line[0]), "The 'network' header has no name", $"write '{HeaderExample}'");
                return ("", TensorShape.Unknown, location);
            }
            var nameToken = line[1];
            if (!IsIdentifier(nameToken.Text))
                Syntax(At(nameToken), $"'{nameToken.Text}' is not a valid network name",
                    "use letters, digits and '_', starting with a letter or '_'");
            else if (CSharpKeywords.Contains(nameToken.Text))
                Syntax(At(nameToken), $"'{nameToken.Text}' is a C# keyword and cannot name the generated class",
                    "choose another network name");
            if (line.Count == 2)
                return (nameToken.Text, TensorShape.Unknown, location);
            if (line[2].Text != "input")
            {
                Syntax(At(line[2]), $"Expected 'input' after the network name, found '{line[2].Text}'", $"write '{HeaderExample}'");
                return (nameToken.Text, TensorShape.Unknown, location);
            }
            if (line.Count == 3)
            {
                Syntax(At(line[2]), "'input' has no shape after it", "write channels x height x width, e.g. 'input 1x28x28'");
                return (nameToken.Text, TensorShape.Unknown, location);
            }
            var shape = Shape(line[3]);
            for (int i = 4; i < line.Count; i++)
                Syntax(At(line[i]), $"Unexpected '{line[i].Text}' after the input shape", "end the header after the shape");
            return (nameToken.Text, shape, location);
        }

        private TensorShape Shape(BnnToken token)
        {
            var parts = token.Text.Split('x');
            var sizes = new int[3];
            bool valid = parts.Length == 3;
            for (int i = 0; valid && i < 3; i++)
                valid = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]);
            if (valid)
                return TensorShape.Image(sizes[0], sizes[1], sizes[2]);
            Syntax(At(token), $"Input shape '{token.Text}' is malformed", "write channels x height x width, e.g. 1x28x28");
            return TensorShape.Unknown;
        }

        // LayerName key=value ...; returns null after reporting when the line cannot become a layer.
        private LayerSpec? Layer(List<BnnToken> line, int number)
        {
            var nameToken = line[0];
            var location = Span(nameToken, line[line.Count - 1]);
            if (!LayerSyntax.All.TryGetValue(nameToken.Text, out var syntax))
            {
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnknownLayer, At(nameToken),
                    nameToken.Text, BlockKeyword(nameToken.Text) ?? LayerSyntax.Closest(nameToken.Text), string.Join(", ", LayerSyntax.All.Keys)));
                return null;
            }

            int before = Diagnostics.Count;
            var values = new Dictionary<string, int>(StringComparer.Ordinal);
            var writtenAs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var token in line.Skip(1))
            {
                int equals = token.Text.IndexOf('=');
                if (equals <= 0)
                {
                    Syntax(At(token), $"Expected an option written key=value, found '{token.Text}'",
                        $"write options of {syntax.Name} as key=value, e.g. {(syntax.Options.Count == 0 ? "nothing: it takes no options" : syntax.Options[0].Name + "=1")}");
                    continue;
                }
                string key = token.Text.Substring(0, equals), value = token.Text.Substring(equals + 1);
                var option = syntax.Find(key);
                if (option is null)
                {
                    Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnknownOption, At(token, 0, equals),
                        number, syntax.Kind, key, syntax.OptionList));
                    continue;
                }
                if (writtenAs.TryGetValue(option.Name, out string? earlier))
                {
                    Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.DuplicateOption, At(token, 0, equals),
                        number, syntax.Kind, option.Name, earlier, key));
                    continue;
                }
                writtenAs[option.Name] = key;
                if (!option.TryParse(value, out int parsed))
                {
                    Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.InvalidOption, At(token, equals + 1, value.Length),
                        key, number, syntax.Kind, $"'{value}'", option.Expected));
                    continue;
                }
                values[option.Name] = parsed;
            }
            foreach (var missing in syntax.Options.Where(o => o.Required && !writtenAs.ContainsKey(o.Name)))
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.MissingOption, At(nameToken), number, syntax.Kind, missing.Name));
            return Diagnostics.Count == before ? syntax.Build(values, location) : null;
        }

        // The block keyword a miscased or attribute-style spelling means (Residual, EndResidual, EndRepeat), or null.
        private static string? BlockKeyword(string word) => word.ToLowerInvariant() switch
        {
            "residual" => "residual",
            "shortcut" => "shortcut",
            "repeat" => "repeat",
            "end" or "endresidual" or "endrepeat" => "end",
            _ => null,
        };

        private void Syntax(SourceLocation location, string problem, string fix) =>
            Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.SyntaxError, location, problem, fix));

        private SourceLocation At(BnnToken token) => At(token, 0, token.Text.Length);

        // Characters [offset, offset + length) of one word.
        private SourceLocation At(BnnToken token, int offset, int length) => new(filePath,
            token.Start + offset, length, token.Line, token.Column + offset, token.Line, token.Column + offset + length);

        private SourceLocation Span(BnnToken first, BnnToken last) => new(filePath,
            first.Start, last.End - first.Start, first.Line, first.Column, last.Line, last.Column + last.Text.Length);

        private static bool IsIdentifier(string text) =>
            (char.IsLetter(text[0]) || text[0] == '_') && text.All(c => char.IsLetterOrDigit(c) || c == '_');
    }
}
