// Writes the one-line JSON object that the tools' and examples' `--json` prints last (Utf8JsonWriter: no reflection, AOT-friendly).
using System.Text;
using System.Text.Json;

namespace BnnDsl.Runtime;

/// <summary>Builds a compact JSON object with <see cref="Utf8JsonWriter"/>.</summary>
public static class JsonLine
{
    /// <summary>The object <paramref name="body"/> writes, as one line of text.</summary>
    public static string Create(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
