// Splits .bnn text into its non-empty statements (lines, or parts of a line between ';') of whitespace-separated words,
// dropping '#' comments, keeping each word's position.
using System.Collections.Generic;

namespace BnnDsl;

/// <summary>One word of a <c>.bnn</c> line: its text, offset in the file, and zero-based line and column.</summary>
internal readonly record struct BnnToken(string Text, int Start, int Line, int Column)
{
    /// <summary>Offset just past the word.</summary>
    public int End => Start + Text.Length;
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
            words.Add(new BnnToken(text.Substring(start, i - start), start, line, start - lineStart));
        }
        return lines;
    }

    // A byte-order mark counts as space so a file saved with one still parses.
    private static bool IsSpace(char c) => c == '\uFEFF' || (char.IsWhiteSpace(c) && c is not ('\r' or '\n'));
}
