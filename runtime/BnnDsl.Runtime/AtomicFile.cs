// Writes a whole file under a temporary name in the same directory, then renames it over the target, so a reader
// never sees a half-written checkpoint, model, ONNX file, metrics.csv or plot.
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime;

/// <summary>Whole-file writes through a temporary file and a rename: the target is either the old file or the new one.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Creates <c>{path}.tmp-{guid}</c>, lets <paramref name="write"/> fill it, flushes it to disk and renames it over
    /// <paramref name="path"/>; on any failure the temporary file is deleted and the target is left untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string temporary = $"{path}.tmp-{Guid.NewGuid():N}";
        bool renamed = false;
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            renamed = true;
        }
        finally
        {
            if (!renamed)
                TryDelete(temporary);
        }
    }

    /// <summary><see cref="Write"/> for a model file: an I/O failure becomes a <see cref="ModelFileException"/> naming <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file cannot be written (missing directory, no permission, disk full).</exception>
    public static void WriteModel(string path, Action<Stream> write)
    {
        try
        {
            Write(path, write);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot write the file ({ex.Message})", "check that its directory exists, is writable and has free space", ex);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The temporary file stays behind; the target was never touched, which is what matters.
        }
    }
}
