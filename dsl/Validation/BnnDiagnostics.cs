// Every diagnostic a network declaration can produce, in one list: id, title and a message saying what to change.
using System.Collections.Generic;

namespace BnnDsl;

/// <summary>A diagnostic kind: stable id, short title and a composite-format message.</summary>
public sealed record BnnDiagnosticDescriptor(string Id, string Title, string MessageFormat);

/// <summary>The diagnostics of network declarations. All are errors: the network cannot be generated.</summary>
public static class BnnDiagnostics
{
    /// <summary>BNN0001: a weight or activation bit width outside 1..32.</summary>
    public static readonly BnnDiagnosticDescriptor BitWidthOutOfRange = new(
        "BNN0001", "Bit width out of range",
        "{0} of layer {1} ({2}) is {3}; use a width from 1 to 32");

    /// <summary>BNN0002: the network has no input shape or a non-positive dimension.</summary>
    public static readonly BnnDiagnosticDescriptor InvalidInputShape = new(
        "BNN0002", "Missing or invalid input shape",
        "Network '{0}' has input channels {1}, height {2}, width {3}; declare positive sizes, e.g. [Network(1, 28, 28)] or 'network Net input 1x28x28'");

    /// <summary>BNN0003: the network declares no layers.</summary>
    public static readonly BnnDiagnosticDescriptor NoLayers = new(
        "BNN0003", "Network has no layers",
        "Network '{0}' declares no layers; add layer attributes such as [QConvolution(64, 3)] after [Network]");

    /// <summary>BNN0004: a convolution kernel or pooling window larger than its (padded) input.</summary>
    public static readonly BnnDiagnosticDescriptor KernelLargerThanInput = new(
        "BNN0004", "Kernel larger than its input",
        "The {0}x{0} window of layer {1} ({2}) is larger than its input {3} (padded {4}x{5}); use a smaller window, more padding or less downsampling before it");

    /// <summary>BNN0005: a fully connected layer on a channels x height x width input.</summary>
    public static readonly BnnDiagnosticDescriptor FlattenMissing = new(
        "BNN0005", "Flatten missing before a fully connected layer",
        "Layer {0} ({1}) needs a flat input but gets {2}; add [Flatten] before it");

    /// <summary>BNN0006: an option with a value outside its domain.</summary>
    public static readonly BnnDiagnosticDescriptor InvalidOption = new(
        "BNN0006", "Invalid option value",
        "{0} of layer {1} ({2}) is {3}; use {4}");

    /// <summary>BNN0007: a convolution or pooling layer on a flat input.</summary>
    public static readonly BnnDiagnosticDescriptor SpatialLayerOnFlatInput = new(
        "BNN0007", "Spatial layer on a flat input",
        "Layer {0} ({1}) needs a channels x height x width input but gets the flat {2}; move it before [Flatten] or [GlobalAvgPool]");

    /// <summary>BNN0008: [Network] on a class the generator cannot extend.</summary>
    public static readonly BnnDiagnosticDescriptor NetworkClassNotPartial = new(
        "BNN0008", "Network class must be a top-level partial class",
        "Class '{0}' has [Network] but is not a non-static, non-generic partial class without a base class declared at namespace level; declare it 'public partial class {0}' outside other types (the generated part derives it from BnnDsl.Runtime.Networks.Network)");

    /// <summary>BNN0009: <c>.bnn</c> text that does not follow the grammar (docs/dsl.md).</summary>
    public static readonly BnnDiagnosticDescriptor SyntaxError = new(
        "BNN0009", "Syntax error in network text",
        "{0}; {1}");

    /// <summary>BNN0010: a <c>.bnn</c> line names no known layer.</summary>
    public static readonly BnnDiagnosticDescriptor UnknownLayer = new(
        "BNN0010", "Unknown layer",
        "Unknown layer '{0}'; did you mean '{1}'? The layers are {2}");

    /// <summary>BNN0011: a <c>.bnn</c> option the layer does not have.</summary>
    public static readonly BnnDiagnosticDescriptor UnknownOption = new(
        "BNN0011", "Unknown layer option",
        "Layer {0} ({1}) has no option '{2}'; its options are {3}");

    /// <summary>BNN0012: a <c>.bnn</c> option given twice on one layer (an alias counts as its option).</summary>
    public static readonly BnnDiagnosticDescriptor DuplicateOption = new(
        "BNN0012", "Duplicate layer option",
        "Layer {0} ({1}) sets option '{2}' twice ('{3}' and '{4}'); keep one");

    /// <summary>BNN0013: a <c>.bnn</c> layer without an option it needs.</summary>
    public static readonly BnnDiagnosticDescriptor MissingOption = new(
        "BNN0013", "Required layer option missing",
        "Layer {0} ({1}) needs option '{2}'; add {2}=<positive integer>");

    /// <summary>BNN0014: two network declarations that generate the same class (same namespace and name, ignoring case).</summary>
    public static readonly BnnDiagnosticDescriptor DuplicateNetwork = new(
        "BNN0014", "Duplicate network name",
        "Network '{0}' is declared twice: at {1} and at {2}; rename one");

    /// <summary>BNN0015: a valid layer the generated forward/backward code cannot run: a loss head that is not the last layer (every bit width 1..32 runs).</summary>
    public static readonly BnnDiagnosticDescriptor NotGeneratable = new(
        "BNN0015", "Layer not supported by the generated code",
        "Layer {0} ({1}) {2}; {3}");

    /// <summary>BNN0016: a residual block whose main path and shortcut end in different shapes.</summary>
    public static readonly BnnDiagnosticDescriptor ResidualShapeMismatch = new(
        "BNN0016", "Residual shapes do not add up",
        "The residual block closed by layer {0} (EndResidual) does not add up: the main path gives {1} but the shortcut gives {2}; {3}");

    /// <summary>BNN0017: a block marker without its partner (residual, shortcut, end, repeat) or a repeat count below 1.</summary>
    public static readonly BnnDiagnosticDescriptor UnbalancedBlock = new(
        "BNN0017", "Unbalanced block",
        "{0}; {1}");

    /// <summary>BNN0018: a <c>$name</c> (or the name in an <c>if</c>) that no <c>param</c> line declares.</summary>
    public static readonly BnnDiagnosticDescriptor UnknownParameter = new(
        "BNN0018", "Unknown parameter",
        "'{0}' names no parameter; declare it above the network header with 'param {1} = VALUE', or use one of the parameters: {2}");

    /// <summary>BNN0019: a parameter declared twice.</summary>
    public static readonly BnnDiagnosticDescriptor DuplicateParameter = new(
        "BNN0019", "Duplicate parameter",
        "Parameter '{0}' is declared twice, on lines {1} and {2}; keep one declaration");

    /// <summary>BNN0020: a variant setting a parameter the file does not declare.</summary>
    public static readonly BnnDiagnosticDescriptor UnknownVariantParameter = new(
        "BNN0020", "Variant sets an unknown parameter",
        "Variant '{0}' sets '{1}', which is not a parameter; set one of {2}, or declare 'param {1} = VALUE' above the network header");

    /// <summary>BNN0021: a parameter value that is neither an integer nor a word, or of the other kind than the parameter's default.</summary>
    public static readonly BnnDiagnosticDescriptor InvalidParameterValue = new(
        "BNN0021", "Invalid parameter value",
        "{0}; {1}");

    /// <summary>BNN0022: <c>if</c>, <c>else</c> and <c>endif</c> that do not pair up, or a block crossing a branch boundary.</summary>
    public static readonly BnnDiagnosticDescriptor UnbalancedConditional = new(
        "BNN0022", "Unbalanced conditional",
        "{0}; {1}");

    /// <summary>BNN0023: two networks of one file (the header's and the variants') with one name, ignoring case.</summary>
    public static readonly BnnDiagnosticDescriptor DuplicateVariant = new(
        "BNN0023", "Duplicate variant name",
        "Variant '{0}' has the name of the {1} on line {2}; give every network of the file its own name");

    /// <summary>Every descriptor, in id order.</summary>
    public static IReadOnlyList<BnnDiagnosticDescriptor> All { get; } =
    [
        BitWidthOutOfRange, InvalidInputShape, NoLayers, KernelLargerThanInput,
        FlattenMissing, InvalidOption, SpatialLayerOnFlatInput, NetworkClassNotPartial,
        SyntaxError, UnknownLayer, UnknownOption, DuplicateOption, MissingOption, DuplicateNetwork,
        NotGeneratable, ResidualShapeMismatch, UnbalancedBlock, UnknownParameter, DuplicateParameter,
        UnknownVariantParameter, InvalidParameterValue, UnbalancedConditional, DuplicateVariant,
    ];
}
