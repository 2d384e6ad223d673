// MNIST (or any data set in its four-file IDX layout, such as Fashion-MNIST): finds, reads and cross-checks the files.
using System.Globalization;

namespace BnnDsl.Runtime.Data;

/// <summary>
/// The MNIST training and test splits, read from a directory holding <c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c> (or the same names
/// with a dot before <c>idx</c>, as some mirrors spell them). <c>bash scripts/fetch-mnist.sh</c> fetches them.
/// </summary>
public sealed class MnistDataSet
{
    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/> (read by scripts/fetch-mnist.sh too).</summary>
    public const string DirectoryVariable = "BNNDSL_MNIST_DIR";

    /// <summary>File name of the training images.</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte";

    /// <summary>File name of the training labels.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";

    /// <summary>File name of the test images.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";

    /// <summary>File name of the test labels.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    private MnistDataSet(LabeledImages train, LabeledImages test)
    {
        Train = train;
        Test = test;
    }

    /// <summary>Where scripts/fetch-mnist.sh puts the files: <c>$BNNDSL_MNIST_DIR</c>, else <c>~/.cache/bnndsl/mnist</c>.</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } directory
            ? directory
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "bnndsl", "mnist");

    /// <summary>The training split (60,000 images for MNIST).</summary>
    public LabeledImages Train { get; }

    /// <summary>The test split (10,000 images for MNIST).</summary>
    public LabeledImages Test { get; }

    /// <summary>
    /// Reads the four files from <paramref name="directory"/> and checks each one (magic, dimension count, size against
    /// the file length, labels in 0 .. <paramref name="classCount"/> - 1), that each split has as many labels as
    /// images, and that test images have the training images' size.
    /// </summary>
    /// <exception cref="DataFormatException">A file is missing or fails a check; its <see cref="DataFormatException.FilePath"/> names it.</exception>
    public static MnistDataSet Load(string directory, int classCount = 10)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        if (!Directory.Exists(directory))
        {
            throw new DataFormatException(directory,
                $"{directory}: no such directory. Fetch MNIST with bash scripts/fetch-mnist.sh (it prints the directory) or pass the directory that holds the four IDX files.");
        }

        var train = LoadSplit(directory, TrainImagesFile, TrainLabelsFile, classCount);
        var test = LoadSplit(directory, TestImagesFile, TestLabelsFile, classCount);
        if (test.Images.Rows != train.Images.Rows || test.Images.Columns != train.Images.Columns)
        {
            throw new DataFormatException(Find(directory, TestImagesFile),
                $"{Find(directory, TestImagesFile)}: its images are {test.Images.Rows}×{test.Images.Columns} but the training images are " +
                $"{train.Images.Rows}×{train.Images.Columns}. The two splits come from different data sets: fetch both from one source (bash scripts/fetch-mnist.sh).");
        }

        return new MnistDataSet(train, test);
    }

    private static LabeledImages LoadSplit(string directory, string imagesFile, string labelsFile, int classCount)
    {
        var images = IdxReader.ReadImages(Find(directory, imagesFile));
        string labelsPath = Find(directory, labelsFile);
        var labels = IdxReader.ReadLabels(labelsPath, classCount);
        if (images.Count != labels.Count)
        {
            throw new DataFormatException(labelsPath,
                $"{labelsPath}: it holds {labels.Count.ToString("N0", CultureInfo.InvariantCulture)} labels but {Find(directory, imagesFile)} holds {images.Count.ToString("N0", CultureInfo.InvariantCulture)} images. " +
                "The files come from different data sets or splits: fetch them again together (bash scripts/fetch-mnist.sh).");
        }

        return new LabeledImages(images, labels);
    }

    /// <summary>The path of <paramref name="name"/> in <paramref name="directory"/>, or of its dotted variant if only that exists.</summary>
    private static string Find(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        string dotted = Path.Combine(directory, name.Replace("-idx", ".idx", StringComparison.Ordinal));
        if (File.Exists(path) || !File.Exists(dotted))
        {
            return path;
        }

        return dotted;
    }
}
