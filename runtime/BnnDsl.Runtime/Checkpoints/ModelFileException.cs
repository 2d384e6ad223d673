// The one exception every checkpoint and model-file reader or writer throws for a missing, damaged or malformed file.
namespace BnnDsl.Runtime.Checkpoints;

/// <summary>
/// A model file (checkpoint, packed model, or the JSON stored in one) is missing, damaged, not in the expected format,
/// or cannot be written. <see cref="Path"/> names the file; the message reads <c>path: what is wrong; how to fix it</c>.
/// Readers never let bad input surface as an index, JSON or end-of-stream error.
/// </summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception: the message becomes <c>{path}: {problem}; {fix}</c>.</summary>
    public ModelFileException(string path, string problem, string fix, Exception? innerException = null)
        : base($"{path}: {problem}; {fix}", innerException)
    {
        Path = path;
    }

    /// <summary>The file that could not be read or written (<c>&lt;metadata&gt;</c> for JSON text given directly).</summary>
    public string Path { get; }
}
