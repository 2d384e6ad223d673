// The values that flow through the pipeline: plain records with value equality, never a Roslyn symbol or node.
namespace BnnDsl.Generator;

/// <summary>What to generate: the class to extend, its inferred network, and where it was declared (for the header comment).</summary>
internal sealed record GenerationTarget(string? Namespace, string ClassName, NetworkSpec Spec, string DeclaredIn)
{
    public string HintName => (Namespace is null ? ClassName : Namespace + "." + ClassName) + ".g.cs";
}

/// <summary>One [Network] class: the target, and the problems that stop it from being generated.</summary>
internal sealed record NetworkModel(GenerationTarget Target, EquatableArray<NetworkDiagnostic> Diagnostics);

/// <summary>Why a generated network gets no packed inference class (the planner's message), reported as BNN0100.</summary>
internal sealed record PackedRefusal(string Network, string Reason, SourceLocation? Location);
