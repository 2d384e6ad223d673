// Turns a .bnn additional file into the NetworkModels of its networks (the header's and each variant's) through the dsl's BnnText.
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace BnnDsl.Generator;

internal static class TextParser
{
    /// <summary>
    /// One model per network of <paramref name="file"/>, each generated as class <c>Name</c> in
    /// <paramref name="rootNamespace"/>; when any network of the file has a problem, one model carrying every
    /// diagnostic of the file (each once), so the file generates nothing.
    /// </summary>
    public static ImmutableArray<NetworkModel> Parse(AdditionalText file, string? rootNamespace, CancellationToken cancellationToken)
    {
        string text = file.GetText(cancellationToken)?.ToString() ?? "";
        var result = BnnText.Parse(text, file.Path);
        string fileName = Path.GetFileName(file.Path);
        var diagnostics = result.Succeeded
            ? result.Networks.SelectMany(n => LayerPlanner.Check(n.Network!)).Distinct().ToList()
            : [.. result.Diagnostics];
        if (diagnostics.Count > 0)
        {
            // Without a network there are diagnostics, so the placeholder target is never emitted.
            var spec = (result.Networks.Count > 0 ? result.Networks[0].Network : null)
                ?? new NetworkSpec(Path.GetFileNameWithoutExtension(file.Path), TensorShape.Unknown, default);
            return [new NetworkModel(new GenerationTarget(rootNamespace, spec.Name, spec, fileName), new EquatableArray<NetworkDiagnostic>(diagnostics))];
        }
        return [.. result.Networks.Select((network, i) => new NetworkModel(
            new GenerationTarget(rootNamespace, network.Name, network.Network!, i == 0 ? fileName : DeclaredIn(fileName, network, result)), default))];
    }

    // "resnet18.bnn, variant ResNet18W2A2 (bits=2)": the settings the variant changes.
    private static string DeclaredIn(string fileName, BnnTextNetwork variant, BnnTextResult file)
    {
        var changed = variant.Settings.Where((setting, i) => setting.Value != file.Parameters[i].Value).Select(s => s.Name + "=" + s.Value).ToList();
        return $"{fileName}, variant {variant.Name}" + (changed.Count == 0 ? "" : $" ({string.Join(" ", changed)})");
    }
}
