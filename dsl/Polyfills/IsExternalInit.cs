// Lets netstandard2.0 code declare records and init-only properties (the type ships only with .NET 5+).
namespace System.Runtime.CompilerServices;

internal static class IsExternalInit
{
}
