// Writes a whole file under a temporary name in the same directory, then renames it over the target,
// so a reader never sees a half-written metrics.csv or training.png.
namespace BnnDsl.Reporting;

internal static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> through "path.tmp" and a rename.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string fullPath = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        string temporary = fullPath + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                stream.Write(bytes);
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }
}
