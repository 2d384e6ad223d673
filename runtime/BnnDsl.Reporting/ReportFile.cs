// Writes a report file (metrics.csv, training.png) whole, creating its directory first, so a reader never sees a
// half-written one.
using BnnDsl.Runtime;

namespace BnnDsl.Reporting;

internal static class ReportFile
{
    /// <summary>Creates the directory of <paramref name="path"/> if needed and writes <paramref name="bytes"/> through <see cref="AtomicFile"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        string fullPath = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        AtomicFile.Write(fullPath, stream => stream.Write(bytes));
    }
}
