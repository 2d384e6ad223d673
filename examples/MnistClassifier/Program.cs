// Standalone MNIST classifier: loads a packed model (.bnnx) and prints the predicted class of IDX images.
// Usage: mnist-classify MODEL.bnnx IMAGES-idx3-ubyte [--labels LABELS-idx1-ubyte] [--first N] [--count N] [--time]
using System.Diagnostics;
using System.Globalization;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;

return Classifier.Run(args, Console.Out, Console.Error);

/// <summary>The classifier's command line: arguments, loading, classifying, printing.</summary>
internal static class Classifier
{
    private const string Usage =
        "usage: mnist-classify MODEL.bnnx IMAGES-idx3-ubyte [--labels LABELS-idx1-ubyte] [--first N] [--count N] [--time]\n" +
        "  Prints one predicted class per image (images first .. first+count-1; default: all).\n" +
        "  --labels  also print the accuracy against this label file\n" +
        "  --time    print milliseconds from process start (10 ms resolution on Linux) to model loaded and to the first image classified, then exit";

    /// <summary>Runs the command line; returns the exit code (0 ok, 1 bad data, 2 bad arguments).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? model = null, images = null, labels = null;
        int first = 0, count = -1;
        bool time = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--time": time = true; break;
                case "--labels" when i + 1 < args.Length: labels = args[++i]; break;
                case "--first" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out first) && first >= 0: i++; break;
                case "--count" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out count) && count >= 0: i++; break;
                case "-h" or "--help": output.WriteLine(Usage); return 0;
                default:
                    if (args[i].StartsWith('-') || (model is not null && images is not null))
                    {
                        error.WriteLine($"mnist-classify: unexpected argument '{args[i]}' (or its value is missing or not a non-negative integer).\n{Usage}");
                        return 2;
                    }

                    if (model is null) model = args[i]; else images = args[i];
                    break;
            }
        }

        if (model is null || images is null)
        {
            error.WriteLine($"mnist-classify: give a model file and an image file.\n{Usage}");
            return 2;
        }

        try
        {
            return time ? Time(model, images, output) : Classify(model, images, labels, first, count, output, error);
        }
        catch (Exception e) when (e is ModelFileException or DataFormatException)
        {
            error.WriteLine($"mnist-classify: {e.Message}");
            return 1;
        }
    }

    // Start-up cost as a user sees it: process start -> model loaded -> first image classified.
    private static int Time(string modelPath, string imagesPath, TextWriter output)
    {
        var model = PackedModel.Load(modelPath);
        double loaded = SinceStart();
        var images = IdxReader.ReadImages(imagesPath);
        var input = new float[model.InputLength];
        CheckShape(model, images, imagesPath);
        images.Normalize(0, 1, input);
        int predicted = model.CreateSession(batchSize: 1).Classify(input, 1)[0];
        double classified = SinceStart();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded_ms={loaded:F1} first_prediction_ms={classified:F1} class={predicted}"));
        return 0;
    }

    private static int Classify(string modelPath, string imagesPath, string? labelsPath, int first, int count, TextWriter output, TextWriter error)
    {
        var model = PackedModel.Load(modelPath);
        var images = IdxReader.ReadImages(imagesPath);
        CheckShape(model, images, imagesPath);
        if (first > images.Count)
        {
            error.WriteLine($"mnist-classify: --first {first} is past the {images.Count} images of {imagesPath}; pass at most {images.Count}.");
            return 2;
        }

        count = count < 0 ? images.Count - first : Math.Min(count, images.Count - first);
        var labels = labelsPath is null ? null : IdxReader.ReadLabels(labelsPath, model.OutputLength);
        if (labels is not null && labels.Count != images.Count)
        {
            error.WriteLine($"mnist-classify: {labelsPath} holds {labels.Count} labels but {imagesPath} holds {images.Count} images; pass the matching label file.");
            return 2;
        }

        const int Chunk = PackedModel.PooledBatchSize;
        var session = model.CreateSession(Chunk);
        var input = new float[Chunk * model.InputLength];
        var classes = new int[Chunk];
        int correct = 0;
        for (int start = 0; start < count; start += Chunk)
        {
            int n = Math.Min(Chunk, count - start);
            images.Normalize(first + start, n, input.AsSpan(0, n * model.InputLength));
            session.Classify(input.AsSpan(0, n * model.InputLength), n, classes.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                output.WriteLine(classes[i].ToString(CultureInfo.InvariantCulture));
                if (labels is not null && labels.Labels[first + start + i] == classes[i]) correct++;
            }
        }

        if (labels is not null && count > 0)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {100.0 * correct / count:F2}% ({correct}/{count})"));
        }

        return 0;
    }

    private static void CheckShape(PackedModel model, IdxImages images, string imagesPath)
    {
        if (images.PixelsPerImage != model.InputLength)
        {
            throw new DataFormatException(imagesPath,
                $"{imagesPath}: its images are {images.Rows}x{images.Columns} = {images.PixelsPerImage} pixels but the model {model.Source} takes " +
                $"{model.InputLength} floats per sample; pass images of the size the model was trained on.");
        }
    }

    private static double SinceStart() =>
        (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
}
