// The incremental pipeline: [Network] classes and .bnn additional files -> NetworkModel -> diagnostics and Emitter output.
using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BnnDsl.Generator;

/// <summary>
/// Generates <c>Spec</c> and <c>Summary()</c> for every class marked with <see cref="NetworkAttribute"/>, and for every
/// <c>.bnn</c> additional file a class per network it declares (the header's and each variant's), in the project's root namespace.
/// </summary>
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

        var rootNamespace = context.AnalyzerConfigOptionsProvider.Select(static (options, _) =>
            options.GlobalOptions.TryGetValue("build_property.RootNamespace", out var name) && !string.IsNullOrWhiteSpace(name)
                ? name
                : null);
        var textNetworks = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(".bnn", StringComparison.OrdinalIgnoreCase))
            .Combine(rootNamespace)
            .SelectMany(static (pair, cancellationToken) => TextParser.Parse(pair.Left, pair.Right, cancellationToken))
            .WithTrackingName(TrackingNames.TextNetworks);

        // Two declarations of one class would add the same hint name; the first is generated, the others get BNN0014.
        var duplicates = networks.Select(static (model, _) => model.Target).Collect()
            .Combine(textNetworks.Select(static (model, _) => model.Target).Collect())
            .Select(static (pair, _) => DuplicateNetworks.Find(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Duplicates);
        context.RegisterSourceOutput(duplicates.Select(static (found, _) => found.Diagnostics), ReportAll);

        // The device inference classes need BnnDsl.Runtime.Gpu (ILGPU): generated only where the project references it.
        var device = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(DeviceEmitter.BaseMetadataName) is not null)
            .WithTrackingName(TrackingNames.Device);

        Register(context, networks, duplicates, device, TrackingNames.Diagnostics, TrackingNames.Targets, TrackingNames.PackedRefusals);
        Register(context, textNetworks, duplicates, device, TrackingNames.TextDiagnostics, TrackingNames.TextTargets, TrackingNames.TextPackedRefusals);
    }

    // Diagnostics and code come from separate outputs, so a diagnostic change does not regenerate code.
    private static void Register(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<NetworkModel> models,
        IncrementalValueProvider<DuplicateNetworks> duplicates, IncrementalValueProvider<bool> device, string diagnosticsStep, string targetsStep, string refusalsStep)
    {
        var diagnostics = models
            .Select(static (model, _) => model.Diagnostics)
            .WithTrackingName(diagnosticsStep);
        context.RegisterSourceOutput(diagnostics, ReportAll);

        var targets = models
            .Where(static model => model.Diagnostics.Count == 0)
            .Select(static (model, _) => model.Target)
            .WithTrackingName(targetsStep)
            .Combine(duplicates)
            .Where(static pair => !pair.Right.IsSuppressed(pair.Left))
            .Select(static (pair, _) => pair.Left);
        context.RegisterSourceOutput(targets.Combine(device), static (output, pair) =>
            output.AddSource(pair.Left.HintName, Emitter.Emit(pair.Left, pair.Right)));

        // A network the packed planner refuses is generated without its Packed class, with an info note saying why.
        var refusals = targets
            .Select(static (target, _) => PackedEmitter.Refusal(target.Spec) is { } reason
                ? new PackedRefusal(target.Spec.Name, reason.TrimEnd('.'), target.Spec.Location)
                : null)
            .WithTrackingName(refusalsStep);
        context.RegisterSourceOutput(refusals, static (output, refusal) =>
        {
            if (refusal is not null)
                output.ReportDiagnostic(RoslynDiagnostics.Create(refusal));
        });
    }

    private static void ReportAll(SourceProductionContext output, EquatableArray<NetworkDiagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
            output.ReportDiagnostic(RoslynDiagnostics.Create(diagnostic));
    }
}
