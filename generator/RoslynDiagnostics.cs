// Turns the dsl's diagnostics (plain values) into compiler diagnostics at the declaring attribute.
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace BnnDsl.Generator;

internal static class RoslynDiagnostics
{
    public const string Category = "BnnDsl";

    // The ids are literals here because analyzer release tracking reads them from the descriptor constructions;
    // a test checks that they match BnnDiagnostics.All.
    private static readonly DiagnosticDescriptor BitWidthOutOfRange = new(
        "BNN0001", BnnDiagnostics.BitWidthOutOfRange.Title, BnnDiagnostics.BitWidthOutOfRange.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor InvalidInputShape = new(
        "BNN0002", BnnDiagnostics.InvalidInputShape.Title, BnnDiagnostics.InvalidInputShape.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor NoLayers = new(
        "BNN0003", BnnDiagnostics.NoLayers.Title, BnnDiagnostics.NoLayers.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor KernelLargerThanInput = new(
        "BNN0004", BnnDiagnostics.KernelLargerThanInput.Title, BnnDiagnostics.KernelLargerThanInput.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor FlattenMissing = new(
        "BNN0005", BnnDiagnostics.FlattenMissing.Title, BnnDiagnostics.FlattenMissing.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor InvalidOption = new(
        "BNN0006", BnnDiagnostics.InvalidOption.Title, BnnDiagnostics.InvalidOption.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor SpatialLayerOnFlatInput = new(
        "BNN0007", BnnDiagnostics.SpatialLayerOnFlatInput.Title, BnnDiagnostics.SpatialLayerOnFlatInput.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor NetworkClassNotPartial = new(
        "BNN0008", BnnDiagnostics.NetworkClassNotPartial.Title, BnnDiagnostics.NetworkClassNotPartial.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor SyntaxError = new(
        "BNN0009", BnnDiagnostics.SyntaxError.Title, BnnDiagnostics.SyntaxError.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor UnknownLayer = new(
        "BNN0010", BnnDiagnostics.UnknownLayer.Title, BnnDiagnostics.UnknownLayer.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor UnknownOption = new(
        "BNN0011", BnnDiagnostics.UnknownOption.Title, BnnDiagnostics.UnknownOption.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor DuplicateOption = new(
        "BNN0012", BnnDiagnostics.DuplicateOption.Title, BnnDiagnostics.DuplicateOption.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor MissingOption = new(
        "BNN0013", BnnDiagnostics.MissingOption.Title, BnnDiagnostics.MissingOption.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor DuplicateNetwork = new(
        "BNN0014", BnnDiagnostics.DuplicateNetwork.Title, BnnDiagnostics.DuplicateNetwork.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor NotGeneratable = new(
        "BNN0015", BnnDiagnostics.NotGeneratable.Title, BnnDiagnostics.NotGeneratable.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor ResidualShapeMismatch = new(
        "BNN0016", BnnDiagnostics.ResidualShapeMismatch.Title, BnnDiagnostics.ResidualShapeMismatch.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor UnbalancedBlock = new(
        "BNN0017", BnnDiagnostics.UnbalancedBlock.Title, BnnDiagnostics.UnbalancedBlock.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor UnknownParameter = new(
        "BNN0018", BnnDiagnostics.UnknownParameter.Title, BnnDiagnostics.UnknownParameter.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor DuplicateParameter = new(
        "BNN0019", BnnDiagnostics.DuplicateParameter.Title, BnnDiagnostics.DuplicateParameter.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor UnknownVariantParameter = new(
        "BNN0020", BnnDiagnostics.UnknownVariantParameter.Title, BnnDiagnostics.UnknownVariantParameter.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor InvalidParameterValue = new(
        "BNN0021", BnnDiagnostics.InvalidParameterValue.Title, BnnDiagnostics.InvalidParameterValue.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor UnbalancedConditional = new(
        "BNN0022", BnnDiagnostics.UnbalancedConditional.Title, BnnDiagnostics.UnbalancedConditional.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor DuplicateVariant = new(
        "BNN0023", BnnDiagnostics.DuplicateVariant.Title, BnnDiagnostics.DuplicateVariant.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>
    /// Info, generator only (not a dsl rule): the network is valid and generated, but the packed planner refuses it
    /// (layers of 9..31 bits or mixed widths, padded pooling), so its class gets no nested <c>Packed</c> inference class.
    /// </summary>
    public static readonly DiagnosticDescriptor NoPackedClass = new(
        "BNN0100", "No packed inference class", "Network '{0}' gets no generated Packed inference class: {1}. It trains and runs its generated Forward and ForwardReference as usual.",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true);

    private static readonly Dictionary<string, DiagnosticDescriptor> Descriptors = new[]
    {
        BitWidthOutOfRange, InvalidInputShape, NoLayers, KernelLargerThanInput, FlattenMissing, InvalidOption, SpatialLayerOnFlatInput, NetworkClassNotPartial,
        SyntaxError, UnknownLayer, UnknownOption, DuplicateOption, MissingOption, DuplicateNetwork, NotGeneratable,
        ResidualShapeMismatch, UnbalancedBlock, UnknownParameter, DuplicateParameter, UnknownVariantParameter, InvalidParameterValue,
        UnbalancedConditional, DuplicateVariant,
    }.ToDictionary(d => d.Id);

    /// <summary>The compiler descriptors, one per entry of <see cref="BnnDiagnostics.All"/>.</summary>
    public static IEnumerable<DiagnosticDescriptor> All => Descriptors.Values;

    /// <summary>The BNN0100 note for <paramref name="refusal"/>, at the network's declaration.</summary>
    public static Diagnostic Create(PackedRefusal refusal) =>
        Diagnostic.Create(NoPackedClass, ToLocation(refusal.Location), refusal.Network, refusal.Reason);

    public static Diagnostic Create(NetworkDiagnostic diagnostic) =>
        Diagnostic.Create(Descriptors[diagnostic.Id], ToLocation(diagnostic.Location), diagnostic.Arguments.Cast<object>().ToArray());

    private static Location ToLocation(SourceLocation? location) => location is null
        ? Location.None
        : Location.Create(location.FilePath, new TextSpan(location.Start, location.Length), new LinePositionSpan(
            new LinePosition(location.Line, location.Column), new LinePosition(location.EndLine, location.EndColumn)));
}
