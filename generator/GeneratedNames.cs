// Names the generator matches in user code and writes into generated code, kept in one place.
namespace BnnDsl.Generator;

internal static class GeneratedNames
{
    public const string NetworkAttribute = "BnnDsl.NetworkAttribute";
    public const string NetworkSpec = "global::BnnDsl.NetworkSpec";
    public const string LayerSpec = "global::BnnDsl.LayerSpec";
    public const string LayerKind = "global::BnnDsl.LayerKind";
    public const string Padding = "global::BnnDsl.Padding";
    public const string TensorShape = "global::BnnDsl.TensorShape";
    public const string SourceLocation = "global::BnnDsl.SourceLocation";
    public const string EquatableArray = "global::BnnDsl.EquatableArray";
    public const string Network = "global::BnnDsl.Runtime.Networks.Network";
    public const string KernelPath = "global::BnnDsl.Kernels.Cpu.KernelPath";
    public const string NetworkSummary = "global::BnnDsl.Runtime.NetworkSummary";
}

/// <summary>Names of the pipeline steps, for incrementality tests.</summary>
internal static class TrackingNames
{
    public const string Networks = nameof(Networks);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Targets = nameof(Targets);
    public const string TextNetworks = nameof(TextNetworks);
    public const string TextDiagnostics = nameof(TextDiagnostics);
    public const string TextTargets = nameof(TextTargets);
    public const string Duplicates = nameof(Duplicates);
    public const string PackedRefusals = nameof(PackedRefusals);
    public const string TextPackedRefusals = nameof(TextPackedRefusals);
    public const string Device = nameof(Device);
}
