// The incremental pipeline: [Network] classes -> Parser -> NetworkModel -> diagnostics and Emitter output.
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BnnDsl.Generator;

/// <summary>Generates <c>Spec</c> and <c>Summary()</c> for every class marked with <see cref="NetworkAttribute"/>.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class BnnGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var networks = context.SyntaxProvider.ForAttributeWithMetadataName(
                GeneratedNames.NetworkAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                Parser.Parse)
            .WithTrackingName(TrackingNames.Networks);

        var diagnostics = networks
            .Select(static (model, _) => model.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (output, list) =>
        {
            foreach (var diagnostic in list)
                output.ReportDiagnostic(RoslynDiagnostics.Create(diagnostic));
        });

        var targets = networks
            .Where(static model => model.Diagnostics.Count == 0)
            .Select(static (model, _) => model.Target)
            .WithTrackingName(TrackingNames.Targets);
        context.RegisterSourceOutput(targets, static (output, target) =>
            output.AddSource(target.HintName, Emitter.Emit(target)));
    }
}
