// One split of an image data set: images and their labels, equal in number.
namespace BnnDsl.Runtime.Data;

/// <summary>Images and one label per image (a training or test split).</summary>
public sealed class LabeledImages
{
    /// <summary>Pairs <paramref name="images"/> with <paramref name="labels"/>; their counts must be equal.</summary>
    public LabeledImages(ImageSet images, IdxLabels labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Count != labels.Count)
        {
            throw new ArgumentException($"{images.Count} images but {labels.Count} labels.", nameof(labels));
        }

        Images = images;
        Labels = labels;
    }

    /// <summary>The images.</summary>
    public ImageSet Images { get; }

    /// <summary>The label of each image.</summary>
    public IdxLabels Labels { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Images.Count;
}
