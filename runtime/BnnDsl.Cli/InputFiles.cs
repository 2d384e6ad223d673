// Reads the samples the run and verify commands feed a model: IDX images (normalized as MNIST training does) or raw float32.
using System.Runtime.InteropServices;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Cli;

/// <summary>Input files checked against the model's input shape; a mismatch throws <see cref="DataFormatException"/> naming the file.</summary>
internal static class InputFiles
{
    /// <summary>
    /// Up to <paramref name="limit"/> images of an IDX image file, as <c>(x / 255 - 0.1307) / 0.3081</c> floats (the
    /// normalization the MNIST examples train with); the model must take 1 × rows × columns.
    /// </summary>
    public static (float[] Samples, int Count) ReadImages(string path, PackedModel model, int limit)
    {
        var images = IdxReader.ReadImages(path);
        var shape = model.Network.Input;
        if (shape.Rank != 3 || shape.Channels != 1 || shape.Height != images.Rows || shape.Width != images.Columns)
            throw new DataFormatException(path,
                $"{path}: its images are 1x{images.Rows}x{images.Columns} but model '{model.Network.Name}' takes {shape}; pass images of that size, or a raw float32 file (.f32 or --raw).");
        int count = Math.Min(limit, images.Count);
        var samples = new float[(long)count * model.InputLength];
        images.Normalize(0, count, samples);
        return (samples, count);
    }

    /// <summary>A raw little-endian float32 file holding a whole number of samples of <see cref="PackedModel.InputLength"/> floats (NHWC).</summary>
    public static (float[] Samples, int Count) ReadRaw(string path, PackedModel model)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"{path}: cannot read the file ({ex.Message}); check the path.", ex);
        }
        long sampleBytes = (long)model.InputLength * sizeof(float);
        if (bytes.Length == 0 || bytes.Length % sampleBytes != 0)
            throw new DataFormatException(path,
                $"{path}: it holds {bytes.Length} bytes, not a whole number of samples of {model.Network.Input} = {model.InputLength} float32 values ({sampleBytes} bytes); write count x {model.InputLength} little-endian floats, NHWC.");
        return (MemoryMarshal.Cast<byte, float>(bytes).ToArray(), (int)(bytes.Length / sampleBytes));
    }
}
