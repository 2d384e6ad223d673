// Reads a .bnn file with its parameters and variants: one network per variant, settings overridable by the caller.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace BnnDsl;

/// <summary>
/// A parameter's value and where it was set: its <c>param</c> line, a <c>variant</c> line, or null when the caller
/// set it (<see cref="BnnText.Parse"/>'s overrides).
/// </summary>
public sealed record BnnSetting(string Name, string Value, SourceLocation? Location);

/// <summary>
/// One network of a <c>.bnn</c> file: the header's (the default variant, first) or a <c>variant</c> line's, with the
/// value of every parameter it was read with. <see cref="Network"/> is null when its text has syntax errors.
/// </summary>
public sealed record BnnTextNetwork(string Name, EquatableArray<BnnSetting> Settings, NetworkSpec? Network, EquatableArray<NetworkDiagnostic> Diagnostics)
{
    /// <summary>True when the network is valid.</summary>
    public bool Succeeded => Network is not null && Diagnostics.Count == 0;
}

/// <summary>
/// Everything a <c>.bnn</c> file declares: its parameters (with their defaults, after the caller's overrides), its
/// networks in file order (the header's first), and every diagnostic of the file, each once.
/// </summary>
public sealed record BnnTextResult(EquatableArray<BnnSetting> Parameters, EquatableArray<BnnTextNetwork> Networks, EquatableArray<NetworkDiagnostic> Diagnostics)
{
    /// <summary>True when every network of the file is valid.</summary>
    public bool Succeeded => Diagnostics.Count == 0;

    /// <summary>
    /// The network named <paramref name="name"/> (the header's when null); an <see cref="InvalidNetworkException"/>
    /// listing its diagnostics when it is invalid (or the file's, when the file declares no network).
    /// </summary>
    /// <exception cref="ArgumentException">The file declares no network of that name.</exception>
    public NetworkSpec GetNetworkOrThrow(string? name = null)
    {
        if (Networks.Count == 0)
            throw new InvalidNetworkException(name ?? "", [.. Diagnostics]);
        var network = name is null ? Networks[0] : Networks.FirstOrDefault(n => n.Name == name)
            ?? throw new ArgumentException(
                $"The file declares no network '{name}'; its networks are {string.Join(", ", Networks.Select(n => n.Name))}", nameof(name));
        return network.Succeeded ? network.Network! : throw new InvalidNetworkException(network.Name, [.. network.Diagnostics]);
    }
}

/// <summary>
/// Reads <c>.bnn</c> files with <c>param</c> settings, <c>$name</c> references, <c>if</c>/<c>else</c>/<c>endif</c>
/// and <c>variant</c> lines (docs/dsl.md), at build time (the generator) or at run time (a program loading a file).
/// </summary>
public static class BnnText
{
    /// <summary>
    /// Parses <paramref name="text"/> read from <paramref name="filePath"/> into every network it declares. Each
    /// parameter starts at its <c>param</c> value, replaced by <paramref name="overrides"/> (name to value, e.g.
    /// <c>bits</c> to <c>4</c>); a variant's settings then apply on top. With errors in the <c>param</c> and
    /// <c>variant</c> lines, returns those and no network.
    /// </summary>
    /// <exception cref="ArgumentException">An override names no parameter of the file or has the wrong kind of value.</exception>
    public static BnnTextResult Parse(string text, string filePath, IReadOnlyDictionary<string, string>? overrides = null)
    {
        if (text is null)
            throw new ArgumentNullException(nameof(text));
        if (filePath is null)
            throw new ArgumentNullException(nameof(filePath));

        var statements = BnnTextLexer.Lines(text);
        var declared = BnnSettings.Read(statements, filePath);
        if (declared.Diagnostics.Count > 0)
            return new BnnTextResult(new EquatableArray<BnnSetting>(declared.Parameters), default,
                new EquatableArray<NetworkDiagnostic>(declared.Diagnostics));

        var defaults = declared.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var pair in overrides ?? new Dictionary<string, string>())
            defaults[pair.Key] = Override(declared, pair.Key, pair.Value, filePath);
        var parameters = declared.Parameters.Select(p => defaults[p.Name]).ToList();

        var body = statements.Skip(declared.BodyStart).ToList();
        var networks = new List<BnnTextNetwork> { Read(body, filePath, parameters, null) };
        foreach (var variant in declared.Variants)
            networks.Add(Read(body, filePath, parameters.Select(p => variant.Values.FirstOrDefault(v => v.Name == p.Name) ?? p).ToList(), variant));
        var diagnostics = networks.SelectMany(n => n.Diagnostics).Distinct();
        return new BnnTextResult(new EquatableArray<BnnSetting>(parameters), new EquatableArray<BnnTextNetwork>(networks),
            new EquatableArray<NetworkDiagnostic>(diagnostics));
    }

    /// <summary>Reads the file at <paramref name="filePath"/> and parses it as <see cref="Parse"/> does.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static BnnTextResult Load(string filePath, IReadOnlyDictionary<string, string>? overrides = null) =>
        Parse(File.ReadAllText(filePath ?? throw new ArgumentNullException(nameof(filePath))), filePath, overrides);

    private static BnnTextNetwork Read(List<List<BnnToken>> body, string filePath, List<BnnSetting> settings, BnnVariant? variant)
    {
        var (network, diagnostics) = BnnTextParser.ParseNetwork(body, filePath, settings, variant?.Name, variant?.Location);
        string name = variant?.Name ?? network?.Name ?? HeaderName(body) ?? Path.GetFileNameWithoutExtension(filePath);
        return new BnnTextNetwork(name, new EquatableArray<BnnSetting>(settings), network, new EquatableArray<NetworkDiagnostic>(diagnostics));
    }

    private static string? HeaderName(List<List<BnnToken>> body) =>
        body.FirstOrDefault(s => s[0].Text == "network" && s.Count > 1)?[1].Text;

    private static BnnSetting Override(BnnSettings declared, string name, string value, string filePath)
    {
        var parameter = declared.Parameters.FirstOrDefault(p => p.Name == name)
            ?? throw new ArgumentException(
                $"Override '{name}={value}' for {filePath}: the file has no parameter '{name}'; set one of {BnnSettings.List(declared.Parameters)}, or declare 'param {name} = VALUE' in the file",
                "overrides");
        var kind = BnnSettings.Classify(parameter.Value);
        if (BnnSettings.Classify(value) != kind)
            throw new ArgumentException(
                $"Override '{name}={value}' for {filePath}: parameter '{name}' takes {BnnSettings.Describe(kind)} like its default '{parameter.Value}'; pass one",
                "overrides");
        return new BnnSetting(name, value, null);
    }
}
