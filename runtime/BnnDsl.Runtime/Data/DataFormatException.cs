// The one exception every data-set loader throws for a missing, damaged or malformed file.
namespace BnnDsl.Runtime.Data;

/// <summary>
/// A data file is missing, damaged or not in the expected format. <see cref="FilePath"/> names the file and the message
/// says what is wrong and how to fix it. Loaders never let bad input surface as an index or end-of-stream error.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/>; <paramref name="message"/> names the file, the fault and the fix.</summary>
    public DataFormatException(string filePath, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file (or directory) that could not be loaded.</summary>
    public string FilePath { get; }
}
