// Where a declaration was written, as plain values (no compiler types), so models keep value equality.
using System.Globalization;

namespace BnnDsl;

/// <summary>
/// A span of source text: <paramref name="Start"/> and <paramref name="Length"/> in characters, lines and columns
/// zero-based as the compiler counts them.
/// </summary>
public sealed record SourceLocation(string FilePath, int Start, int Length, int Line, int Column, int EndLine, int EndColumn)
{
    /// <summary><c>path(line,column)</c> with one-based line and column, as compilers print them.</summary>
    public override string ToString() =>
        string.Format(CultureInfo.InvariantCulture, "{0}({1},{2})", FilePath, Line + 1, Column + 1);
}
