// What shape inference returns: the network with every shape filled in, and the problems it found.
using System.Linq;

namespace BnnDsl;

/// <summary>The inferred <paramref name="Network"/> and its <paramref name="Diagnostics"/>.</summary>
public sealed record InferenceResult(NetworkSpec Network, EquatableArray<NetworkDiagnostic> Diagnostics)
{
    /// <summary>True when the network is valid: every shape is known.</summary>
    public bool Succeeded => Diagnostics.Count == 0;

    /// <summary>The network, or an <see cref="InvalidNetworkException"/> listing every diagnostic.</summary>
    public NetworkSpec GetNetworkOrThrow() => Succeeded
        ? Network
        : throw new InvalidNetworkException(Network.Name, [.. Diagnostics]);
}
