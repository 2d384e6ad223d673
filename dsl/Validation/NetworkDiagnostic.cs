// One reported problem in a network declaration: its descriptor, message arguments and where it was declared.
using System.Globalization;
using System.Linq;

namespace BnnDsl;

/// <summary>An instance of <paramref name="Descriptor"/> with its message <paramref name="Arguments"/>.</summary>
public sealed record NetworkDiagnostic(BnnDiagnosticDescriptor Descriptor, EquatableArray<string> Arguments, SourceLocation? Location)
{
    /// <summary>Creates a diagnostic, formatting each argument with the invariant culture.</summary>
    public static NetworkDiagnostic Create(BnnDiagnosticDescriptor descriptor, SourceLocation? location, params object[] arguments) =>
        new(descriptor, new EquatableArray<string>(arguments.Select(a => string.Format(CultureInfo.InvariantCulture, "{0}", a))), location);

    /// <summary>The descriptor's id, e.g. <c>BNN0004</c>.</summary>
    public string Id => Descriptor.Id;

    /// <summary>The formatted message.</summary>
    public string Message => string.Format(CultureInfo.InvariantCulture, Descriptor.MessageFormat, Arguments.Cast<object>().ToArray());

    /// <summary><c>location: BNN0004: message</c>.</summary>
    public override string ToString() => $"{Location?.ToString() ?? "(no location)"}: {Id}: {Message}";
}
