// Reads the 'param' and 'variant' lines above a .bnn file's network header: the parameters and the variants to generate.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace BnnDsl;

/// <summary>The kind of a parameter value.</summary>
internal enum ValueKind
{
    /// <summary>A decimal integer, optionally signed.</summary>
    Integer,
    /// <summary>Letters, digits and '_' that are not an integer (<c>imagenet</c>, <c>3x32x32</c>).</summary>
    Word,
    /// <summary>Anything else.</summary>
    Invalid,
}

/// <summary>A <c>variant NAME key=value ...</c> line: the network's name, its settings and the line.</summary>
internal sealed record BnnVariant(string Name, IReadOnlyList<BnnSetting> Values, SourceLocation Location);

/// <summary>
/// The leading <c>param NAME = VALUE</c> and <c>variant NAME key=value ...</c> statements of a file (in any order, all
/// before the <c>network</c> header), checked against each other: BNN0019 to BNN0021, BNN0023 and BNN0009.
/// </summary>
internal sealed class BnnSettings
{
    private const string ParamExample = "param bits = 1";

    private readonly string filePath;

    private BnnSettings(string filePath) => this.filePath = filePath;

    /// <summary>The declared parameters with their values as written, in file order.</summary>
    public List<BnnSetting> Parameters { get; } = [];

    /// <summary>The variants, in file order.</summary>
    public List<BnnVariant> Variants { get; } = [];

    /// <summary>The problems found.</summary>
    public List<NetworkDiagnostic> Diagnostics { get; } = [];

    /// <summary>The index of the first statement after the parameters and variants.</summary>
    public int BodyStart { get; private set; }

    /// <summary>Reads the leading parameters and variants of <paramref name="statements"/>.</summary>
    public static BnnSettings Read(List<List<BnnToken>> statements, string filePath)
    {
        var settings = new BnnSettings(filePath);
        var variantLines = new List<List<BnnToken>>();
        while (settings.BodyStart < statements.Count && statements[settings.BodyStart][0].Text is "param" or "variant")
        {
            var statement = statements[settings.BodyStart++];
            if (statement[0].Text == "param")
                settings.Parameter(statement);
            else
                variantLines.Add(statement);
        }
        var header = settings.BodyStart < statements.Count && statements[settings.BodyStart] is { Count: > 1 } first && first[0].Text == "network"
            ? first[1]
            : (BnnToken?)null;
        foreach (var line in variantLines)
            settings.Variant(line, header);
        return settings;
    }

    /// <summary>The kind of <paramref name="value"/>.</summary>
    public static ValueKind Classify(string value)
    {
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            return ValueKind.Integer;
        return value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || c == '_') ? ValueKind.Word : ValueKind.Invalid;
    }

    /// <summary>The kind for messages: <c>an integer</c> or <c>a word</c>.</summary>
    public static string Describe(ValueKind kind) =>
        kind == ValueKind.Integer ? "an integer" : "a word (letters, digits and '_')";

    /// <summary>The parameter names for messages.</summary>
    public static string List(IEnumerable<BnnSetting> parameters)
    {
        string names = string.Join(", ", parameters.Select(p => p.Name));
        return names.Length == 0 ? "none (the file declares none)" : names;
    }

    // param NAME = VALUE, or param NAME=VALUE.
    private void Parameter(List<BnnToken> line)
    {
        var location = BnnToken.Span(filePath, line[0], line[line.Count - 1]);
        BnnToken nameToken, valueToken;
        string name, value;
        int valueOffset;
        if (line.Count == 4 && line[2].Text == "=")
            (nameToken, name, valueToken, value, valueOffset) = (line[1], line[1].Text, line[3], line[3].Text, 0);
        else if (line.Count == 2 && line[1].Text.IndexOf('=') > 0)
        {
            int equals = line[1].Text.IndexOf('=');
            (nameToken, name, valueToken, value, valueOffset) = (line[1], line[1].Text.Substring(0, equals), line[1], line[1].Text.Substring(equals + 1), equals + 1);
        }
        else
        {
            Syntax(line.Count > 1 ? line[1].At(filePath) : line[0].At(filePath), "Malformed parameter declaration",
                $"write 'param NAME = VALUE' with spaces around '=', e.g. '{ParamExample}'");
            return;
        }
        if (!IsName(name))
        {
            Syntax(nameToken.At(filePath, 0, name.Length), $"'{name}' is not a valid parameter name",
                "use letters, digits and '_', starting with a letter or '_'");
            return;
        }
        if (Classify(value) == ValueKind.Invalid)
        {
            Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.InvalidParameterValue, valueToken.At(filePath, valueOffset, value.Length),
                $"The value '{value}' of parameter '{name}' is neither an integer nor a word",
                "write an integer such as 1 or a word of letters, digits and '_' such as imagenet or 3x32x32"));
            return;
        }
        var earlier = Parameters.FirstOrDefault(p => p.Name == name);
        if (earlier is not null)
        {
            Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.DuplicateParameter, nameToken.At(filePath, 0, name.Length),
                name, earlier.Location!.Line + 1, nameToken.Line + 1));
            return;
        }
        Parameters.Add(new BnnSetting(name, value, location));
    }

    // variant NAME key=value ...; the name must differ (ignoring case, as generated file names do) from the header's
    // network name and every earlier variant's.
    private void Variant(List<BnnToken> line, BnnToken? header)
    {
        var location = BnnToken.Span(filePath, line[0], line[line.Count - 1]);
        if (line.Count < 2 || line[1].Text.IndexOf('=') >= 0)
        {
            Syntax(line[0].At(filePath), "'variant' has no name", "write 'variant NAME key=value ...', e.g. 'variant ResNet18W2A2 bits=2'");
            return;
        }
        var nameToken = line[1];
        string? problem = BnnTextParser.NameProblem(nameToken.Text);
        if (problem is not null)
        {
            Syntax(nameToken.At(filePath), problem, "choose a name of letters, digits and '_' that is not a C# keyword");
            return;
        }
        var twin = header is { } h && string.Equals(h.Text, nameToken.Text, StringComparison.OrdinalIgnoreCase)
            ? ("network header", h.Line)
            : Variants.Where(v => string.Equals(v.Name, nameToken.Text, StringComparison.OrdinalIgnoreCase))
                .Select(v => ("variant", v.Location.Line)).FirstOrDefault();
        if (twin.Item1 is not null)
        {
            Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.DuplicateVariant, nameToken.At(filePath), nameToken.Text, twin.Item1, twin.Item2 + 1));
            return;
        }

        int before = Diagnostics.Count;
        var values = new List<BnnSetting>();
        foreach (var token in line.Skip(2))
        {
            int equals = token.Text.IndexOf('=');
            if (equals <= 0)
            {
                Syntax(token.At(filePath), $"Expected a setting written key=value, found '{token.Text}'",
                    $"write the parameters the variant changes as key=value, e.g. '{(Parameters.Count == 0 ? "bits" : Parameters[0].Name)}=2'");
                continue;
            }
            string key = token.Text.Substring(0, equals), value = token.Text.Substring(equals + 1);
            var parameter = Parameters.FirstOrDefault(p => p.Name == key);
            if (parameter is null)
            {
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnknownVariantParameter, token.At(filePath, 0, equals),
                    nameToken.Text, key, List(Parameters)));
                continue;
            }
            if (values.Any(v => v.Name == key))
            {
                Syntax(token.At(filePath, 0, equals), $"Variant '{nameToken.Text}' sets '{key}' twice", "keep one setting");
                continue;
            }
            var kind = Classify(parameter.Value);
            if (Classify(value) != kind)
            {
                Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.InvalidParameterValue, token.At(filePath, equals + 1, value.Length),
                    $"Variant '{nameToken.Text}' sets '{key}' to '{value}', but the parameter takes {Describe(kind)} like its default '{parameter.Value}'",
                    $"write {key}= followed by {Describe(kind)}"));
                continue;
            }
            values.Add(new BnnSetting(key, value, location));
        }
        if (Diagnostics.Count == before)
            Variants.Add(new BnnVariant(nameToken.Text, values, location));
    }

    private void Syntax(SourceLocation location, string problem, string fix) =>
        Diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.SyntaxError, location, problem, fix));

    private static bool IsName(string text) =>
        text.Length > 0 && (char.IsLetter(text[0]) || text[0] == '_') && text.All(c => char.IsLetterOrDigit(c) || c == '_');
}
