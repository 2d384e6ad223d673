// The packed format on residual and k-bit networks: the interpreter against the generated and the spec-built
// networks (every bit at binary boundaries and every float step exact, logits within 1e-4), ResNet-18 CIFAR with
// float and binary downsampling shortcuts and with k-bit blocks, converter determinism, damaged new tensors.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using Xunit.Abstractions;

namespace BnnDsl.Training.Tests;

/// <summary>Downsampling shortcuts with a binary 1x1 convolution, with and without an explicit sign; 40 channels leave a word tail.</summary>
[Network(3, 8, 8)]
[Convolution(16, 3, Pad = 1)]
[BatchNorm]
[Residual, QActivation(1), QConvolution(16, 3, Pad = 1), BatchNorm, EndResidual]
[Residual, QActivation(1), QConvolution(32, 3, Stride = 2, Pad = 1), BatchNorm]
[Shortcut, AvgPool(2), QActivation(1), QConvolution(32, 1), BatchNorm, EndResidual]
[Residual, QActivation(1), QConvolution(40, 3, Stride = 2, Pad = 1, Padding = Padding.Zero), BatchNorm]
[Shortcut, AvgPool(2), QConvolution(40, 1), BatchNorm, EndResidual]
[GlobalAvgPool]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class BinaryShortcutResNet;

/// <summary>
/// 2-bit and 4-bit blocks, a 4-bit downsampling block with a float shortcut, a binary block after them, a standalone
/// 3-bit quantizer and a 4-bit dense layer with its BatchNorm.
/// </summary>
[Network(3, 8, 8)]
[Convolution(16, 3, Pad = 1)]
[BatchNorm]
[Residual, QActivation(2), QConvolution(16, 3, Pad = 1, WeightBits = 2, ActBits = 2), BatchNorm, EndResidual]
[Residual, QActivation(4), QConvolution(16, 3, Pad = 1, WeightBits = 4, ActBits = 4), BatchNorm, EndResidual]
[Residual, QActivation(4), QConvolution(24, 3, Stride = 2, Pad = 1, WeightBits = 4, ActBits = 4), BatchNorm]
[Shortcut, AvgPool(2), Convolution(24, 1), BatchNorm, EndResidual]
[Residual, QActivation(1), QConvolution(24, 3, Pad = 1), BatchNorm, EndResidual]
[QActivation(3)]
[GlobalAvgPool]
[QFullyConnected(8, WeightBits = 4, ActBits = 4)]
[BatchNorm]
[FullyConnected(3)]
[SoftmaxCrossEntropy]
public partial class MixedBitResNet;

public sealed class ResidualPackedModelTests(ITestOutputHelper output)
{
    /// <summary>BatchNorm statistics of both signs on the scale of each BatchNorm's input; gamma 0 on every seventh channel.</summary>
    internal static Network Prepared(Network network, int seed) => PackedModelTests.Prepared(network, seed, kBitSpread: 0.3);

    private static string RepositoryFile(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
                return Path.Combine(directory.FullName, relativePath);
        throw new InvalidOperationException($"No BnnDsl.sln above {AppContext.BaseDirectory}; run the tests from the repository.");
    }

    /// <summary>examples/ResNet18/resnet18.bnn's ResNet18 with its settings (<c>bits</c>, <c>downsample</c>, ...) overridden by <paramref name="settings"/>.</summary>
    private static NetworkSpec ResNet18Text(params (string Name, string Value)[] settings)
    {
        string path = RepositoryFile(Path.Combine("examples", "ResNet18", "resnet18.bnn"));
        return BnnText.Parse(File.ReadAllText(path), path, settings.ToDictionary(s => s.Name, s => s.Value)).GetNetworkOrThrow();
    }

    private static readonly (string, string) BinaryShortcuts = ("downsample", "binary");

    private static (string, string) KBit(int bits) => ("bits", bits.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// The interpreter against <paramref name="network"/> (logits within 1e-4, same classes) and, step by step,
    /// against a <see cref="SpecNetwork"/> with the same parameters: bits equal sign() of the layer the step ends
    /// at, floats equal its values exactly.
    /// </summary>
    private static PackedModel AssertMatches(Network network, int count, int seed)
    {
        var model = PackedModelTests.Convert(network);
        var oracle = network as SpecNetwork ?? new SpecNetwork(network.Definition, network.BatchSize);
        if (!ReferenceEquals(oracle, network))
            foreach (var parameter in oracle.Parameters)
                network.Parameter(parameter.Name).Value.CopyTo(parameter.Value, 0);
        var input = PackedModelTests.RandomInput(count, network.InputLength, seed);
        network.Forward(input, training: false);
        var expected = network.Output.ToArray();
        oracle.Forward(input, training: false);
        Assert.Equal(expected, oracle.Output.ToArray());

        var session = model.CreateSession(count, keepStepOutputs: true);
        var logits = new float[count * model.OutputLength];
        session.Predict(input, count, logits);
        // a session that reuses step buffers computes the same
        var reused = new float[logits.Length];
        model.CreateSession(count).Predict(input, count, reused);
        Assert.Equal(logits, reused);
        Assert.Throws<InvalidOperationException>(() => model.CreateSession(count).StepFloats(0).Length);
        PackedModelTests.AssertLogitsAndClasses(session, input, count, logits, expected);

        session.Predict(input, count, logits);
        for (int i = 0; i < model.Steps.Count; i++)
        {
            var step = model.Steps[i];
            var values = oracle.LayerOutput(step.Last);
            if (step.HasBits)
            {
                var shape = step.Output;
                int rows = shape.Rank == 3 ? count * shape.Height * shape.Width : count;
                var want = new ulong[rows * SignPacking.WordsFor(shape.Channels)];
                SignPacking.Pack(values, rows, shape.Channels, want, KernelPath.Scalar);
                Assert.True(want.AsSpan().SequenceEqual(session.StepBits(i)), $"step {i + 1} ({step}): packed bits differ from sign() of {step.Last}");
            }
            if (step.OutputFloats)
                Assert.True(values.SequenceEqual(session.StepFloats(i)), $"step {i + 1} ({step}): floats differ from {step.Last}");
        }
        return model;
    }

    [Fact]
    public void SmallResNetMatchesWithLanesAndOneSampleAtATime()
    {
        var network = Prepared(new SmallResNet(24), seed: 3);
        var model = AssertMatches(network, 24, seed: 11);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.Add && s.PackSign);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.XnorConv && !s.OutputBits && s.Norm is not null);

        var input = PackedModelTests.RandomInput(24, network.InputLength, 11);
        var batched = new float[24 * model.OutputLength];
        model.CreateSession(24).Predict(input, 24, batched);
        var single = new float[batched.Length];
        model.CreateSession(1).Predict(input, 24, single);
        Assert.Equal(batched, single);
        foreach (var path in KernelDispatch.Runnable.Where(p => p != KernelPath.Auto))
        {
            var other = new float[batched.Length];
            model.CreateSession(24, path).Predict(input, 24, other);
            Assert.Equal(batched, other);
        }
    }

    [Fact]
    public void CornerCasesMatch()
    {
        var model = AssertMatches(Prepared(new CornerResNet(3), seed: 4), 3, seed: 12);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.Add && s.Shortcut == -1);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.Add && s.Source == s.Shortcut);
        Assert.Equal(PlanOp.Add, model.Steps[^1].Op);
    }

    [Fact]
    public void BinaryShortcutsMatch()
    {
        var model = AssertMatches(Prepared(new BinaryShortcutResNet(5), seed: 5), 5, seed: 13);
        Assert.Equal(3, model.Steps.Count(s => s.Op == PlanOp.XnorConv && s.Spec!.Kernel == 1 || s.Op == PlanOp.Sign && s.Input.Height == 4));
    }

    [Fact]
    public void KBitNetworksMatch()
    {
        var model = AssertMatches(Prepared(new MixedBitResNet(4), seed: 6), 4, seed: 14);
        Assert.Equal(3, model.Steps.Count(s => s.Op == PlanOp.BitSerialConv && s.Norm is not null));
        Assert.Contains(model.Steps, s => s.Op == PlanOp.BitSerialDense && s.Norm is not null);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.Quantize && s.Bits == 3);
        Assert.Contains("bits=4/4", ModelPlanner.Text(model.Steps));

        model = AssertMatches(Prepared(new TwoBitResNet(3), seed: 7), 3, seed: 15);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.BitSerialConv && s.Bits == 4 && s.Spec!.WeightBits == 2);
        AssertMatches(Prepared(new TwoBitLeNet(2), seed: 8), 2, seed: 16);
    }

    [Fact]
    public void ResNet18CifarMatchesWithFloatAndBinaryShortcuts()
    {
        var floatShortcuts = AssertMatches(Prepared(new SpecNetwork(ResNet18Text(), 2), seed: 9), 2, seed: 17);
        Assert.Equal(16, floatShortcuts.Steps.Count(s => s.Op == PlanOp.XnorConv));
        Assert.Equal(16, floatShortcuts.Steps.Count(s => s.Op == PlanOp.Add));
        Assert.Equal(15, floatShortcuts.Steps.Count(s => s.Op == PlanOp.Add && s.PackSign));
        Assert.Equal(1, floatShortcuts.Steps.Count(s => s.Op == PlanOp.Sign));
        var binaryShortcuts = AssertMatches(Prepared(new SpecNetwork(ResNet18Text(BinaryShortcuts), 2), seed: 10), 2, seed: 18);
        Assert.Equal(19, binaryShortcuts.Steps.Count(s => s.Op == PlanOp.XnorConv));

        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            string floatPath = Path.Combine(directory.FullName, "float.bnnx"), binaryPath = Path.Combine(directory.FullName, "binary.bnnx");
            floatShortcuts.Save(floatPath);
            binaryShortcuts.Save(binaryPath);
            long floatBytes = new FileInfo(floatPath).Length, binaryBytes = new FileInfo(binaryPath).Length;
            output.WriteLine($"ResNet-18 CIFAR .bnnx: {floatBytes:N0} bytes with float 1x1 shortcuts, {binaryBytes:N0} with binary ones");
            Assert.True(binaryBytes < 1_490_426, $"binary-shortcut ResNet-18 takes {binaryBytes} bytes, more than BMXNet's 1,490,426");
            var loaded = PackedModel.Load(binaryPath);
            var input = PackedModelTests.RandomInput(2, loaded.InputLength, 18);
            var expected = new float[2 * 10];
            binaryShortcuts.Predict(input, 2, expected);
            var logits = new float[2 * 10];
            loaded.Predict(input, 2, logits);
            Assert.Equal(expected, logits);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void ResNet18CifarKBitVariantsMatch()
    {
        foreach (int bits in new[] { 2, 8 })
        {
            var model = AssertMatches(Prepared(new SpecNetwork(ResNet18Text(KBit(bits)), 2), seed: 20 + bits), 2, seed: 30 + bits);
            Assert.Equal(16, model.Steps.Count(s => s.Op == PlanOp.BitSerialConv));
            Assert.DoesNotContain(model.Steps, s => s.Op is PlanOp.Quantize or PlanOp.XnorConv);
        }
    }

    [Fact]
    public void ResidualInferenceAllocatesNothingAndRunsConcurrently()
    {
        var network = Prepared(new MixedBitResNet(1), seed: 11);
        var model = PackedModelTests.Convert(network);
        const int count = 37;
        var input = PackedModelTests.RandomInput(count, model.InputLength, 8);
        var whole = new float[count * 3];
        model.CreateSession(64).Predict(input, count, whole);
        var session = model.CreateSession(16);
        var chunked = new float[count * 3];
        session.Predict(input, count, chunked);
        Assert.Equal(whole, chunked);
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.Predict(input, count, chunked);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        var results = new float[4][];
        Parallel.For(0, results.Length, i =>
        {
            var logits = new float[count * 3];
            model.Predict(input, count, logits);
            results[i] = logits;
        });
        foreach (var result in results)
            Assert.Equal(whole, result);
    }

    [Fact]
    public void ConvertsResidualCheckpointsDeterministically()
    {
        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            var network = Prepared(new MixedBitResNet(1), seed: 12);
            string checkpoint = Path.Combine(directory.FullName, "mixed.safetensors");
            Checkpoint.Save(checkpoint, network.Parameters, new Dictionary<string, string> { ["network"] = NetworkSpecJson.Write(network.Definition) });
            string first = Path.Combine(directory.FullName, "a.bnnx"), second = Path.Combine(directory.FullName, "b.bnnx");
            ModelConverter.Convert(checkpoint, first);
            ModelConverter.Convert(checkpoint, second);
            var bytes = File.ReadAllBytes(first);
            Assert.Equal(bytes, File.ReadAllBytes(second));
            var model = PackedModel.Load(first);
            Assert.Equal(PackedModel.FormatVersion, model.Metadata["format_version"]);
            model.Save(second);
            Assert.Equal(bytes, File.ReadAllBytes(second));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void DamagedResidualAndKBitTensorsThrowModelFileException()
    {
        var model = PackedModelTests.Convert(Prepared(new MixedBitResNet(1), seed: 13));
        var text = ModelPlanner.Text(model.Steps);
        Assert.Contains(" shortcut=", text);
        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            string path = Path.Combine(directory.FullName, "mixed.bnnx");

            ModelFileException Load(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
            {
                SafeTensorsFile.Write(path, [.. tensors], metadata ?? model.Metadata);
                return Assert.Throws<ModelFileException>(() => PackedModel.Load(path));
            }

            // a k-bit layer's planes: missing, of another dtype, of another bit width
            var ex = Load(model.Tensors.Where(t => t.Name != "qconv2.packed_weight"));
            Assert.Contains("qconv2.packed_weight", ex.Message);
            var planes = model.Tensors.Single(t => t.Name == "qconv2.packed_weight");
            ex = Load(model.Tensors.Select(t => t.Name == planes.Name ? SafeTensor.Create<float>(t.Name, t.Shape, new float[planes.Data.Length / 8]) : t));
            Assert.Contains("qconv2.packed_weight", ex.Message);
            ex = Load(model.Tensors.Select(t => t.Name == planes.Name
                ? SafeTensor.Create<ulong>(t.Name, [t.Shape[0], 2, t.Shape[2]], new ulong[t.Shape[0] * 2 * t.Shape[2]]) : t));
            Assert.Contains("qconv2.packed_weight", ex.Message);

            // the BatchNorm folded into a binary convolution's float output, and into a k-bit dense layer
            ex = Load(model.Tensors.Where(t => t.Name != "bn6.scale"));
            Assert.Contains("bn6.scale", ex.Message);
            ex = Load(model.Tensors.Select(t => t.Name == "bn7.shift" ? SafeTensor.Create<float>(t.Name, [3], [1f, 2f, 3f]) : t));
            Assert.Contains("bn7.shift", ex.Message);

            // one flipped bit in a weight plane: the checksum
            var flipped = model.Tensors.Select(t =>
            {
                if (t.Name != planes.Name)
                    return t;
                var words = t.As<ulong>().ToArray();
                words[1] ^= 1UL << 5;
                return SafeTensor.Create<ulong>(t.Name, t.Shape, words);
            });
            ex = Load(flipped);
            Assert.Contains("checksum", ex.Message);

            // a plan edited to drop the shortcut: the re-derived plan differs
            ex = Load(model.Tensors, new Dictionary<string, string>(model.Metadata) { ["plan"] = text.Replace(" sign", "", StringComparison.Ordinal) });
            Assert.Contains("plan", ex.Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void WideQuantizedLayersAreRefusedByName()
    {
        var spec = MixedBitResNet.Spec;
        var wide = spec with
        {
            Layers = new EquatableArray<LayerSpec>(spec.Layers.Select((l, i) => i == 3 ? l with { ActivationBits = 12 } : l)),
        };
        var ex = Assert.Throws<NotSupportedException>(() => ModelPlanner.Plan(wide));
        Assert.Contains("'qact1'", ex.Message);
        Assert.Contains("12 bits", ex.Message);
    }

    [Fact]
    public void LeNetPlanIsUnchangedAndVersion1FilesStillLoad()
    {
        var network = Prepared(new GradientLeNet(2), seed: 14);
        var model = PackedModelTests.Convert(network);
        Assert.Equal("""
            float_conv conv1 1x28x28 -> bits 64x12x12 k=5/1/0 bias bn=bn1 pool=2/2 last=qact1
            xnor_conv qconv1 64x12x12 -> bits 64x8x8 k=5/1/0 pad=one threshold=bn2 last=bn2
            packed_max_pool maxpool2 64x8x8 -> bits 64x4x4 pool=2/2 last=qact2
            xnor_dense qfc1 1024 -> bits 512 threshold=bn3 last=qact3
            bits_dense fc1 512 -> floats 10 bias
            """, ModelPlanner.Text(model.Steps));

        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            string path = Path.Combine(directory.FullName, "lenet-v1.bnnx");
            SafeTensorsFile.Write(path, [.. model.Tensors], new Dictionary<string, string>(model.Metadata)
            {
                // as version 1 wrote it: the network with every field and its shapes
                ["format_version"] = PackedModel.PreviousFormatVersion,
                ["network"] = NetworkSpecJson.Write(model.Network),
            });
            var old = PackedModel.Load(path);
            var input = PackedModelTests.RandomInput(2, model.InputLength, 19);
            Assert.Equal(model.Classify(input, 2), old.Classify(input, 2));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
