// Splits .bnn text into its non-empty statements (lines, or parts of a line between ';') of whitespace-separated words,
// dropping '#' comments, keeping each word's position.
using System.Collections.Generic;

namespace BnnDsl;

/// <summary>
/// One word of a <c>.bnn</c> line: its text, offset in the file, zero-based line and column, and its length in the file
/// (which differs from the text's once a <c>$name</c> reference in it is replaced by the parameter's value).
/// </summary>
internal readonly record struct BnnToken(string Text, int Start, int Line, int Column, int Length)
{
    /// <summary>Offset just past the word as written.</summary>
    public int End => Start + Length;

    /// <summary>The whole word as written in <paramref name="filePath"/>.</summary>
    public SourceLocation At(string filePath) => At(filePath, 0, Length);

    /// <summary>
    /// Characters [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the word. In a
    /// word whose value was substituted, a part after its start (the value of <c>key=$name</c>) is the reference as written.
    /// </summary>
    public SourceLocation At(string filePath, int offset, int length)
    {
        if (Length != Text.Length && offset > 0)
            length = Length - offset;
        return new(filePath, Start + offset, length, Line, Column + offset, Line, Column + offset + length);
    }

    /// <summary>From the start of <paramref name="first"/> to the end of <paramref name="last"/>.</summary>
    public static SourceLocation Span(string filePath, BnnToken first, BnnToken last) => new(filePath,
        first.Start, last.End - first.Start, first.Line, first.Column, last.Line, last.Column + last.Length);
}

/// <summary>
/// The line-oriented lexer of the <c>.bnn</c> form. Accepts <c>\n</c>, <c>\r\n</c> and <c>\r</c> line ends; a
/// <c>;</c> ends a statement like a line end, so short statements can share a line.
/// </summary>
internal static class BnnTextLexer
{
    /// <summary>The words of every statement that has any, in order; comments, blank lines and empty statements yield nothing.</summary>
    public static List<List<BnnToken>> Lines(string text)
    {
        var lines = new List<List<BnnToken>>();
        var words = new List<BnnToken>();
        int line = 0, lineStart = 0, i = 0;
        bool inComment = false;
        while (i <= text.Length)
        {
            char c = i < text.Length ? text[i] : '\n';
            if (c is '\r' or '\n')
            {
                if (words.Count > 0)
                    lines.Add(words);
                words = [];
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                    i++;
                i++;
                line++;
                lineStart = i;
                inComment = false;
                continue;
            }
            if (inComment || c == '#')
            {
                inComment = true;
                i++;
                continue;
            }
            if (c == ';')
            {
                if (words.Count > 0)
                    lines.Add(words);
                words = [];
                i++;
                continue;
            }
            if (IsSpace(c))
            {
                i++;
                continue;
            }
            int start = i;
            while (i < text.Length && !IsSpace(text[i]) && text[i] is not ('#' or ';' or '\r' or '\n'))
                i++;
            words.Add(new BnnToken(text.Substring(start, i - start), start, line, start - lineStart, i - start));
        }
        return lines;
    }

    // A byte-order mark counts as space so a file saved with one still parses.
    private static bool IsSpace(char c) => c == '\uFEFF' || (char.IsWhiteSpace(c) && c is not ('\r' or '\n'));
}
