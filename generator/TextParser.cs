// Turns a .bnn additional file into the same NetworkModel the attribute Parser produces, through the dsl's BnnTextParser.
using System.IO;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace BnnDsl.Generator;

internal static class TextParser
{
    /// <summary>The network of <paramref name="file"/>, generated as class <c>Name</c> in <paramref name="rootNamespace"/>.</summary>
    public static NetworkModel Parse(AdditionalText file, string? rootNamespace, CancellationToken cancellationToken)
    {
        string text = file.GetText(cancellationToken)?.ToString() ?? "";
        var (network, diagnostics) = BnnTextParser.Parse(text, file.Path);
        string fileName = Path.GetFileName(file.Path);
        // Without a network there are diagnostics, so the placeholder target is never emitted.
        var spec = network ?? new NetworkSpec(Path.GetFileNameWithoutExtension(file.Path), TensorShape.Unknown, default);
        if (network is not null && diagnostics.Count == 0)
            diagnostics = LayerPlanner.Check(network);
        return new NetworkModel(new GenerationTarget(rootNamespace, spec.Name, spec, fileName),
            new EquatableArray<NetworkDiagnostic>(diagnostics));
    }
}
