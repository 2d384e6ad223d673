// The generated packed inference classes (Network.Packed) against the interpreter: the same logits bit for bit on every
// planner fallback, residual networks (identity, float and binary downsampling shortcuts), 2/3/4-bit networks and
// ResNet-18 CIFAR, chunked, split into lanes and one sample at a time; allocation-free calls; the wrong model refused.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Training.Tests;

public sealed class GeneratedPackedTests
{
    /// <summary>
    /// The generated class and the interpreter run the same PackedOps in the same order and split samples into the
    /// same lanes, so their logits are equal bit for bit, whatever the batch size (37 samples: chunks of 16 split
    /// into two lanes, a 5-sample chunk on one lane; one sample at a time).
    /// </summary>
    private static void AssertEqualsInterpreter(Network network, Func<PackedModel, int, PackedNetwork> create)
    {
        var model = PackedModelTests.Convert(network);
        const int count = 37;
        var input = PackedModelTests.RandomInput(count, model.InputLength, seed: 5);
        var expected = new float[count * model.OutputLength];
        model.CreateSession(16).Predict(input, count, expected);
        foreach (int batchSize in new[] { 16, 1, 64 })
        {
            var packed = create(model, batchSize);
            var logits = new float[expected.Length];
            packed.Predict(input, count, logits);
            Assert.True(expected.AsSpan().SequenceEqual(logits), $"{network.Definition.Name}, batch size {batchSize}: logits differ from the interpreter's");
            Assert.Equal(model.CreateSession(16).Classify(input, count), packed.Classify(input, count));
        }
    }

    [Fact]
    public void LeNetPackedEqualsTheInterpreter() =>
        AssertEqualsInterpreter(PackedModelTests.Prepared(new GradientLeNet(1), seed: 4), (model, batch) => new GradientLeNet.Packed(model, batch));

    [Fact]
    public void MixedNetPackedEqualsTheInterpreterOnEveryFallback() =>
        AssertEqualsInterpreter(PackedModelTests.Prepared(new MixedNet(1), seed: 5), (model, batch) => new MixedNet.Packed(model, batch));

    [Fact]
    public void TinyNetPackedEqualsTheInterpreterOnEveryKernelPath()
    {
        var network = PackedModelTests.Prepared(new TinyNet(1), seed: 6);
        var model = PackedModelTests.Convert(network);
        var input = PackedModelTests.RandomInput(20, model.InputLength, seed: 7);
        foreach (var path in KernelDispatch.Runnable)
        {
            var expected = new float[20 * model.OutputLength];
            model.CreateSession(20, path).Predict(input, 20, expected);
            var logits = new float[expected.Length];
            new TinyNet.Packed(model, 20, path).Predict(input, 20, logits);
            Assert.True(expected.AsSpan().SequenceEqual(logits), $"path {path}");
        }
    }

    [Fact]
    public void ResidualPackedEqualsTheInterpreter()
    {
        AssertEqualsInterpreter(ResidualPackedModelTests.Prepared(new SmallResNet(1), seed: 11), (model, batch) => new SmallResNet.Packed(model, batch));
        AssertEqualsInterpreter(ResidualPackedModelTests.Prepared(new CornerResNet(1), seed: 12), (model, batch) => new CornerResNet.Packed(model, batch));
        AssertEqualsInterpreter(ResidualPackedModelTests.Prepared(new BinaryShortcutResNet(1), seed: 13), (model, batch) => new BinaryShortcutResNet.Packed(model, batch));
    }

    [Fact]
    public void KBitPackedEqualsTheInterpreter()
    {
        AssertEqualsInterpreter(ResidualPackedModelTests.Prepared(new MixedBitResNet(1), seed: 14), (model, batch) => new MixedBitResNet.Packed(model, batch));
        AssertEqualsInterpreter(ResidualPackedModelTests.Prepared(new TwoBitResNet(1), seed: 15), (model, batch) => new TwoBitResNet.Packed(model, batch));
        AssertEqualsInterpreter(ResidualPackedModelTests.Prepared(new TwoBitLeNet(1), seed: 16), (model, batch) => new TwoBitLeNet.Packed(model, batch));
    }

    /// <summary>ResNet-18 CIFAR (the attribute twin of examples/ResNet18/resnet18.bnn): 3 samples, exactly the interpreter's logits, no allocation per call.</summary>
    [Fact]
    public void ResNet18PackedEqualsTheInterpreterAndAllocatesNothing()
    {
        var network = ResidualPackedModelTests.Prepared(new ResNet18(1), seed: 17);
        var model = PackedModelTests.Convert(network);
        const int count = 3;
        var input = PackedModelTests.RandomInput(count, model.InputLength, seed: 18);
        var expected = new float[count * model.OutputLength];
        model.CreateSession(count).Predict(input, count, expected);
        var packed = new ResNet18.Packed(model, count);
        var logits = new float[expected.Length];
        packed.Predict(input, count, logits);
        Assert.Equal(expected, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        packed.Predict(input, count, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(expected, logits);
    }

    [Fact]
    public void KBitResidualPackedAllocatesNothingPerCallWithLanes()
    {
        var network = ResidualPackedModelTests.Prepared(new MixedBitResNet(1), seed: 19);
        var packed = new MixedBitResNet.Packed(PackedModelTests.Convert(network), batchSize: 32);
        var input = PackedModelTests.RandomInput(32, packed.Model.InputLength, seed: 20);
        var logits = new float[32 * packed.Model.OutputLength];
        packed.Predict(input, 32, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        packed.Predict(input, 32, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void LoadsAFileAllocatesNothingPerCallAndRefusesAnotherNetwork()
    {
        var directory = Directory.CreateTempSubdirectory("bnndsl-packed-");
        try
        {
            var network = PackedModelTests.Prepared(new GradientLeNet(1), seed: 8);
            string file = Path.Combine(directory.FullName, "lenet.bnnx");
            PackedModelTests.Convert(network).Save(file);
            var packed = GradientLeNet.Packed.Load(file, batchSize: 32);
            const int count = 32;
            var input = PackedModelTests.RandomInput(count, packed.Model.InputLength, seed: 9);
            var logits = new float[count * 10];
            Span<int> classes = stackalloc int[count];
            packed.Predict(input, count, logits);
            packed.Classify(input, count, classes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            packed.Predict(input, count, logits);
            packed.Classify(input, count, classes);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

            var error = Assert.Throws<ArgumentException>(() => packed.Predict(input.AsSpan(0, 100), 1, logits));
            Assert.Contains("1x28x28", error.Message);

            // a model of another network: one typed error naming the file and both networks
            string tiny = Path.Combine(directory.FullName, "tiny.bnnx");
            PackedModelTests.Convert(PackedModelTests.Prepared(new TinyNet(1), seed: 1)).Save(tiny);
            var refused = Assert.Throws<ModelFileException>(() => GradientLeNet.Packed.Load(tiny));
            Assert.Equal(tiny, refused.Path);
            Assert.Contains("'TinyNet'", refused.Message);
            Assert.Contains("'GradientLeNet'", refused.Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
