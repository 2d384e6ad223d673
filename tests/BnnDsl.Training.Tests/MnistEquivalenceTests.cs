// On MNIST test images, a briefly trained LeNet through the interpreter, the generated packed class and the generated
// float reference: every prediction equal, every packed bit equal to the sign of the float path, logits within 1e-5.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Training.Tests;

public sealed class MnistEquivalenceTests : IDisposable
{
    private const int TrainImages = 2048;
    private const int TestImages = 1000;
    private const int Batch = 100;

    private readonly string directory = Directory.CreateTempSubdirectory("bnndsl-mnist-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>
    /// The real MNIST files (scripts/fetch-mnist.sh puts them in <see cref="MnistDataSet.DefaultDirectory"/>; CI runs
    /// it first). Missing files fail the test with the command that fetches them.
    /// </summary>
    private static MnistDataSet LoadMnist()
    {
        string path = MnistDataSet.DefaultDirectory;
        Assert.True(File.Exists(Path.Combine(path, MnistDataSet.TestImagesFile)),
            $"MNIST is not in {path}: run 'bash scripts/fetch-mnist.sh' (or set {MnistDataSet.DirectoryVariable} to a directory holding the four IDX files).");
        return MnistDataSet.Load(path);
    }

    private static LabeledImages First(LabeledImages set, int count) => new(
        new IdxImages(count, set.Images.Rows, set.Images.Columns, set.Images.Pixels[..(count * set.Images.ValuesPerImage)]),
        new IdxLabels(set.Labels.Labels[..count], set.Labels.ClassCount));

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best])
                best = j;
        return best;
    }

    /// <summary>
    /// LeNet trained for one epoch on 2048 images (real BatchNorm statistics and weights near the sign boundaries),
    /// converted, then on 1000 test images in batches of 100: the generated packed class equals the interpreter bit for
    /// bit (same ops, same order); every packed step output of the interpreter equals the sign-packing of the
    /// generated float reference's layer output (binary layers bit-exact); the logits (float layers) agree within
    /// 1e-5 of the sample's largest logit; every predicted class is the same on all three paths.
    /// </summary>
    [Fact]
    public void InterpreterGeneratedPackedAndFloatReferenceAgreeOnMnistTestImages()
    {
        var mnist = LoadMnist();
        var trained = new GradientLeNet(64);
        var options = new TrainerOptions { Epochs = 1, Seed = 1, OutputDirectory = directory, ProgressInterval = 1000 };
        var result = new Trainer(trained, First(mnist.Train, TrainImages), First(mnist.Test, 256), options).Run();
        Assert.True(result.BestTestAccuracy > 0.7, $"one epoch on {TrainImages} images reached only {result.BestTestAccuracy:P1}");

        var model = ModelConverter.Convert(trained.Definition, name => trained.Parameter(name).Value);
        var reference = new GradientLeNet(Batch);
        foreach (var parameter in reference.Parameters)
            trained.Parameter(parameter.Name).Value.CopyTo(parameter.Value, 0);
        var session = model.CreateSession(Batch, keepStepOutputs: true);
        var packed = new GradientLeNet.Packed(model, Batch);
        var layerIndex = reference.Layers.Select((layer, i) => (layer.Name, i)).ToDictionary(p => p.Name, p => p.i);

        var input = new float[Batch * model.InputLength];
        var interpreted = new float[Batch * 10];
        var generated = new float[Batch * 10];
        int predictions = 0, correct = 0, bitSteps = 0;
        for (int first = 0; first < TestImages; first += Batch)
        {
            mnist.Test.Images.Normalize(first, Batch, input);
            reference.ForwardReference(input);
            session.Predict(input, Batch, interpreted);
            packed.Predict(input, Batch, generated);
            Assert.True(interpreted.AsSpan().SequenceEqual(generated), $"images {first}..: the generated packed logits differ from the interpreter's");

            for (int i = 0; i < model.Steps.Count; i++)
            {
                var step = model.Steps[i];
                if (!step.OutputBits)
                    continue;
                var shape = step.Output;
                int rows = shape.Rank == 3 ? Batch * shape.Height * shape.Width : Batch;
                var want = new ulong[rows * SignPacking.WordsFor(shape.Channels)];
                SignPacking.Pack(reference.LayerOutput(layerIndex[step.Last]), rows, shape.Channels, want, KernelPath.Scalar);
                Assert.True(want.AsSpan().SequenceEqual(session.StepBits(i)), $"images {first}.., step {i} ({step}): bits differ from sign() of the float reference's {step.Last}");
                bitSteps++;
            }

            var floats = reference.Output;
            for (int s = 0; s < Batch; s++)
            {
                var want = floats.Slice(s * 10, 10);
                var got = interpreted.AsSpan(s * 10, 10);
                float largest = 0f;
                foreach (float value in want)
                    largest = Math.Max(largest, Math.Abs(value));
                for (int j = 0; j < 10; j++)
                    Assert.True(Math.Abs(got[j] - want[j]) <= 1e-5f * largest, $"image {first + s}, logit {j}: packed {got[j]} vs float reference {want[j]}");
                int predicted = ArgMax(want);
                Assert.Equal(predicted, ArgMax(got));
                Assert.Equal(predicted, ArgMax(generated.AsSpan(s * 10, 10)));
                predictions++;
                correct += predicted == mnist.Test.Labels.Labels[first + s] ? 1 : 0;
            }
        }
        Assert.Equal(TestImages, predictions);
        Assert.True(bitSteps > 0);
        Assert.True(correct > TestImages * 0.7, $"{correct} of {TestImages} test images right");
    }
}
