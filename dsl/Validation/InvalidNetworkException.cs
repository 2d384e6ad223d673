// The exception for using a network declaration that failed validation; it lists every diagnostic.
using System;
using System.Collections.Generic;
using System.Linq;

namespace BnnDsl;

/// <summary>Thrown when a network declaration that failed validation is used.</summary>
public sealed class InvalidNetworkException(string network, IReadOnlyList<NetworkDiagnostic> diagnostics)
    : Exception($"Network '{network}' is invalid:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())))
{
    /// <summary>The problems found.</summary>
    public IReadOnlyList<NetworkDiagnostic> Diagnostics { get; } = diagnostics;
}
