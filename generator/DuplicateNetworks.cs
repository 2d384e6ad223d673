// Finds networks that would generate the same class: the first declaration is generated, every later one gets BNN0014.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace BnnDsl.Generator;

/// <summary>
/// The BNN0014 diagnostics of a compilation and the declarations (by location) they stop from being generated. Attribute
/// networks count before <c>.bnn</c> networks, each in compilation order; names compare as hint names do, ignoring case.
/// </summary>
internal sealed record DuplicateNetworks(EquatableArray<NetworkDiagnostic> Diagnostics, EquatableArray<SourceLocation> Suppressed)
{
    public static DuplicateNetworks Find(ImmutableArray<GenerationTarget> attributeTargets, ImmutableArray<GenerationTarget> textTargets)
    {
        var first = new Dictionary<string, SourceLocation>(StringComparer.OrdinalIgnoreCase);
        var diagnostics = new List<NetworkDiagnostic>();
        var suppressed = new List<SourceLocation>();
        foreach (var target in attributeTargets.AddRange(textTargets))
        {
            // A .bnn file that does not parse declares no network (its placeholder has no location).
            if (target.Spec.Location is not { } location)
                continue;
            if (first.TryGetValue(target.HintName, out var original))
            {
                string name = target.Namespace is null ? target.ClassName : target.Namespace + "." + target.ClassName;
                diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.DuplicateNetwork, location, name, original, location));
                suppressed.Add(location);
            }
            else
            {
                first.Add(target.HintName, location);
            }
        }
        return new DuplicateNetworks(new EquatableArray<NetworkDiagnostic>(diagnostics), new EquatableArray<SourceLocation>(suppressed));
    }

    public bool IsSuppressed(GenerationTarget target) => target.Spec.Location is { } location && Suppressed.Contains(location);
}
