// Parses the .bnn text form of a network (grammar in docs/dsl.md) into a NetworkSpec, then infers its shapes.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace BnnDsl;

/// <summary>
/// Reads <c>.bnn</c> text: a <c>network Name input CxHxW</c> header, then one layer per line written
/// <c>LayerName key=value ...</c>, with <c>#</c> comments; <c>residual</c>, <c>shortcut</c>, <c>repeat N</c> and
/// <c>end</c> lines mark residual blocks and repeated layers (repeats are expanded here); <c>$name</c> values and
/// <c>if</c>/<c>else</c>/<c>endif</c> read the file's parameters (<see cref="BnnText"/>). Every problem is a
/// <see cref="NetworkDiagnostic"/> located at its line and column in the file.
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
    /// Parses <paramref name="text"/> read from <paramref name="filePath"/>: the network of its header (the default
    /// variant, every parameter at its <c>param</c> value) and the diagnostics of the whole file, variants included
    /// (<see cref="BnnText.Parse"/> returns every variant). With syntax errors in the header's network, returns no
    /// network; otherwise runs <see cref="ShapeInference"/> and returns its network (shapes filled in,
    /// <see cref="TensorShape.Unknown"/> after the first layer that does not fit).
    /// </summary>
    public static (NetworkSpec? Network, IReadOnlyList<NetworkDiagnostic> Diagnostics) Parse(string text, string filePath)
    {
        var result = BnnText.Parse(text, filePath);
        return (result.Networks.Count == 0 ? null : result.Networks[0].Network, result.Diagnostics.ToList());
    }

    /// <summary>
    /// The network of <paramref name="body"/> (the statements from the header on) with the parameters at
    /// <paramref name="settings"/>; a variant's <paramref name="name"/> and <paramref name="location"/> replace the header's.
    /// </summary>
    internal static (NetworkSpec? Network, List<NetworkDiagnostic> Diagnostics) ParseNetwork(
        List<List<BnnToken>> body, string filePath, IReadOnlyList<BnnSetting> settings, string? name, SourceLocation? location)
    {
        var parser = new Parser(filePath, settings);
        var declared = parser.Run(body);
        if (declared is null)
            return (null, parser.Diagnostics);
        if (name is not null)
            declared = declared with { Name = name, Location = location };
        var inferred = ShapeInference.Infer(declared);
        return (inferred.Network, inferred.Diagnostics.ToList());
    }

    /// <summary>Why <paramref name="name"/> cannot name a generated class, or null when it can.</summary>
    internal static string? NameProblem(string name) =>
        !IsIdentifier(name) ? $"'{name}' is not a valid network name"
        : CSharpKeywords.Contains(name) ? $"'{name}' is a C# keyword and cannot name the generated class"
        : null;

    private static bool IsIdentifier(string text) =>
        text.Length > 0 && (char.IsLetter(text[0]) || text[0] == '_') && text.All(c => char.IsLetterOrDigit(c) || c == '_');

    private sealed class Parser(string filePath, IReadOnlyList<BnnSetting> settings)
    {
        // An open 'if': its keyword, whether the statements around it are read, its condition, whether 'else' was
        // seen, and how many residual/repeat blocks were open at the 'if' (its branches must close what they open).
        private sealed class Branch(BnnToken keyword, bool parentLive, bool condition, int depth)
        {
            public BnnToken Keyword { get; } = keyword;
            public int Depth { get; } = depth;
            public bool InElse { get; set; }
            public bool Live => parentLive && (InElse ? !condition : condition);
        }

        private readonly List<Branch> branches = [];

        // Every 'residual' and 'repeat' not yet closed, read or skipped: the nesting that branches must respect.
        private readonly List<BnnToken> structure = [];

        // The network read so far.
        private readonly LayerListBuilder layers = new();
        private readonly List<(bool Repeat, BnnToken Token)> open = [];
        private string name = "";
        private TensorShape input = TensorShape.Unknown;
        private SourceLocation? networkLocation;
        private int layerNumber;

        // The words of the current statement whose '$' reference could not be replaced: what they cause besides
        // BNN0018 or BNN0009 is not reported.
        private readonly List<BnnToken> unresolved = [];

        public List<NetworkDiagnostic> Diagnostics { get; } = [];

        // Whether the current statement is read: it is outside every 'if', or in the branch taken of each.
        private bool Live => branches.Count == 0 || branches[branches.Count - 1].Live;

        public NetworkSpec? Run(List<List<BnnToken>> lines)
        {
            if (lines.Count == 0)
            {
                Syntax(new SourceLocation(filePath, 0, 0, 0, 0, 0, 0),
                    "The text declares no network", $"start with a header such as '{HeaderExample}'");
                return null;
            }

            foreach (var written in lines)
            {
                unresolved.Clear();
                var line = Substitute(written);
                int reported = Diagnostics.Count;
                Statement(line);
                for (int i = Diagnostics.Count - 1; i >= reported && unresolved.Count > 0; i--)
                    if (Diagnostics[i].Location is { } location && unresolved.Any(t => location.Start >= t.Start && location.Start < t.End))
                        Diagnostics.RemoveAt(i);
            }
            foreach (var branch in branches)
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedConditional, At(branch.Keyword),
                    $"The 'if' on line {branch.Keyword.Line + 1} is never closed", "add 'endif' after its statements"));
            var flat = layers.Build();
            Diagnostics.AddRange(layers.Diagnostics);
            return Diagnostics.Count == 0
                ? new NetworkSpec(name, input, new EquatableArray<LayerSpec>(flat), networkLocation)
                : null;
        }

        private void Statement(List<BnnToken> line)
        {
            var first = line[0];
            if (first.Text is "param" or "variant")
            {
                Syntax(At(first), $"'{first.Text}' comes after the 'network' header",
                    "declare parameters and variants above the 'network' header");
                return;
            }
            if (first.Text is "if" or "else" or "endif")
            {
                if (networkLocation is null && layerNumber == 0)
                    Syntax(At(first), $"'{first.Text}' comes before the 'network' header",
                        $"start the file with a header such as '{HeaderExample}'");
                Conditional(line);
                return;
            }
            if (!Nest(first) || !Live)
                return;
            if (first.Text == "network")
            {
                if (networkLocation is not null || layerNumber > 0)
                    Syntax(At(first), "A second 'network' header", "declare one network per file, on its first line");
                else
                    (name, input, networkLocation) = Header(line);
                return;
            }
            if (networkLocation is null && layerNumber == 0)
                Syntax(At(first), $"'{first.Text}' comes before the 'network' header",
                    $"start the file with a header such as '{HeaderExample}'");
            layerNumber++;
            if (first.Text is "residual" or "shortcut" or "end" or "repeat")
            {
                Block(line);
                return;
            }
            var layer = Layer(line, layerNumber);
            if (layer is not null)
                layers.Add(layer);
        }

        // Replaces each $name value (a whole word after the first, or the value of key=$name) by the parameter's
        // value. Checked on every line, read or skipped, so an unknown name is reported whatever the settings.
        private List<BnnToken> Substitute(List<BnnToken> line)
        {
            if (line[0].Text == "if")
                return line;
            List<BnnToken>? substituted = null;
            for (int i = 1; i < line.Count; i++)
            {
                var token = line[i];
                int dollar = token.Text.IndexOf('$');
                if (dollar < 0)
                    continue;
                int equals = token.Text.IndexOf('=');
                if ((dollar != 0 && dollar != equals + 1) || token.Text.IndexOf('$', dollar + 1) >= 0)
                {
                    Syntax(At(token, dollar, token.Text.Length - dollar), $"'{token.Text}' has a '$' inside a value",
                        "write a parameter reference as a whole value, 'key=$name' or '$name'");
                    unresolved.Add(token);
                    continue;
                }
                var setting = Setting(token, dollar, token.Text.Substring(dollar + 1));
                if (setting is null)
                {
                    unresolved.Add(token);
                    continue;
                }
                substituted ??= [.. line];
                substituted[i] = token with { Text = token.Text.Substring(0, dollar) + setting.Value };
            }
            return substituted ?? line;
        }

        // The parameter 'name' (written from character 'offset' of 'token'), or null after reporting BNN0018.
        private BnnSetting? Setting(BnnToken token, int offset, string name)
        {
            var setting = settings.FirstOrDefault(s => s.Name == name);
            if (setting is null)
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnknownParameter, At(token, offset, token.Text.Length - offset),
                    token.Text.Substring(offset), name.Length == 0 ? "NAME" : name, BnnSettings.List(settings)));
            return setting;
        }

        // Tracks the nesting of 'residual'/'repeat' and 'end' on every line; false for an 'end' that would close a
        // block opened outside its 'if' branch (reported), which is then not read.
        private bool Nest(BnnToken keyword)
        {
            if (keyword.Text is "residual" or "repeat")
                structure.Add(keyword);
            else if (keyword.Text == "end" && structure.Count > 0)
            {
                if (branches.Count > 0 && structure.Count == branches[branches.Count - 1].Depth)
                {
                    var opener = structure[structure.Count - 1];
                    Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedConditional, At(keyword),
                        $"This 'end' would close the '{opener.Text}' on line {opener.Line + 1}, outside the 'if' on line {branches[branches.Count - 1].Keyword.Line + 1}",
                        "close each block in the branch that opens it: move the 'end' below 'endif', or the block's first line into the branch"));
                    return false;
                }
                structure.RemoveAt(structure.Count - 1);
            }
            return true;
        }

        // if NAME == VALUE | if NAME != VALUE | else | endif.
        private void Conditional(List<BnnToken> line)
        {
            var keyword = line[0];
            if (keyword.Text == "if")
            {
                bool condition = Condition(line);
                branches.Add(new Branch(keyword, Live, condition, structure.Count));
                return;
            }
            for (int i = 1; i < line.Count; i++)
                Syntax(At(line[i]), $"Unexpected '{line[i].Text}' after '{keyword.Text}'", $"write '{keyword.Text}' alone on its line");
            if (branches.Count == 0)
            {
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedConditional, At(keyword),
                    $"'{keyword.Text}' without an open 'if'", "remove it, or open the conditional with 'if NAME == VALUE' before it"));
                return;
            }
            var branch = branches[branches.Count - 1];
            if (keyword.Text == "else" && branch.InElse)
            {
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedConditional, At(keyword),
                    $"A second 'else' for the 'if' on line {branch.Keyword.Line + 1}", "keep one 'else' per 'if', or close the first with 'endif'"));
                return;
            }
            while (structure.Count > branch.Depth)
            {
                var opener = structure[structure.Count - 1];
                structure.RemoveAt(structure.Count - 1);
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedConditional, At(keyword),
                    $"The '{opener.Text}' on line {opener.Line + 1} is not closed before '{keyword.Text}'",
                    "close it with 'end' inside the branch that opens it"));
            }
            if (keyword.Text == "else")
                branch.InElse = true;
            else
                branches.RemoveAt(branches.Count - 1);
        }

        // NAME == VALUE or NAME != VALUE ('$NAME' also reads NAME); false, after reporting, when it cannot be evaluated.
        private bool Condition(List<BnnToken> line)
        {
            if (line.Count != 4 || line[2].Text is not ("==" or "!="))
            {
                Syntax(line.Count > 1 ? Span(line[1], line[line.Count - 1]) : At(line[0]), "Malformed condition",
                    "write 'if NAME == VALUE' or 'if NAME != VALUE' with spaces around the operator, e.g. 'if stem == imagenet'");
                return false;
            }
            var nameToken = line[1];
            int offset = nameToken.Text.StartsWith("$", StringComparison.Ordinal) ? 1 : 0;
            var setting = Setting(nameToken, 0, nameToken.Text.Substring(offset));
            if (setting is null)
                return false;
            string value = line[3].Text;
            var kind = BnnSettings.Classify(setting.Value);
            if (BnnSettings.Classify(value) != kind)
            {
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.InvalidParameterValue, At(line[3]),
                    $"'{value}' is compared with parameter '{setting.Name}', which takes {BnnSettings.Describe(kind)}",
                    $"compare it with {BnnSettings.Describe(kind)}, e.g. 'if {setting.Name} == {setting.Value}'"));
                return false;
            }
            bool equal = kind == ValueKind.Integer
                ? int.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) == int.Parse(setting.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
                : value == setting.Value;
            return equal == (line[2].Text == "==");
        }

        // residual | shortcut | end | repeat N. 'end' closes the innermost open 'residual' or 'repeat'; whether
        // 'shortcut' and 'end' of a residual block balance is checked by ShapeInference on the expanded layers.
        private void Block(List<BnnToken> line)
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
            if (NameProblem(nameToken.Text) is { } problem)
                Syntax(At(nameToken), problem, IsIdentifier(nameToken.Text)
                    ? "choose another network name"
                    : "use letters, digits and '_', starting with a letter or '_'");
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

        private SourceLocation At(BnnToken token) => token.At(filePath);

        private SourceLocation At(BnnToken token, int offset, int length) => token.At(filePath, offset, length);

        private SourceLocation Span(BnnToken first, BnnToken last) => BnnToken.Span(filePath, first, last);
    }
}
