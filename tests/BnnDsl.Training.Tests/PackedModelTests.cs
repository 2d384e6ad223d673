// The converter and interpreter against the generated networks: same logits, bit-exact packed intermediates,
// threshold folding edge cases, damaged files, determinism, size, allocation-free and concurrent inference.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Training.Tests;

/// <summary>
/// Every fallback the planner has: float conv + ReLU + AvgPool, an unfused BatchNorm before the sign, a binary conv
/// with zero padding and 16 channels (so Flatten repacks the bits), a binary dense layer whose BatchNorm feeds a ReLU
/// (float output + affine), and a float dense layer on floats.
/// </summary>
[Network(2, 10, 10)]
[Convolution(8, 3, Pad = 1)]
[ReLU]
[AvgPool(2)]
[BatchNorm]
[QActivation(1)]
[QConvolution(16, 3, Pad = 1, Padding = Padding.Zero)]
[BatchNorm]
[QActivation(1)]
[Flatten]
[QFullyConnected(32)]
[BatchNorm]
[ReLU]
[FullyConnected(4)]
[SoftmaxCrossEntropy]
public partial class MixedNet;

public sealed class PackedModelTests
{
    /// <summary>Initializes <paramref name="network"/> from <paramref name="seed"/> with BatchNorm statistics on the scale of the values they see.</summary>
    internal static Network Prepared(Network network, int seed) => Prepared(network, seed, kBitSpread: null);

    /// <summary>
    /// <see cref="Prepared(Network, int)"/>; after a 2..31-bit layer the statistics spread over
    /// <paramref name="kBitSpread"/> x sqrt(its dot-product length), or over 0.5 (as after a float layer) when it is null.
    /// </summary>
    internal static Network Prepared(Network network, int seed, double? kBitSpread)
    {
        network.Initialize(seed);
        var rng = new Random(seed * 7 + 1);
        var names = ModelPlanner.LayerNames(network.Definition);
        for (int i = 0; i < names.Count; i++)
        {
            var layer = network.Definition.Layers[i];
            if (layer.Kind != LayerKind.BatchNorm)
                continue;
            // after a binary layer the values are dot products in [-K, K]: statistics on that scale
            var previous = network.Definition.Layers[i - 1];
            double patch = previous.Kind == LayerKind.QConvolution ? previous.Kernel * previous.Kernel * previous.InputShape.Channels : previous.InputShape.Elements;
            double spread = previous.WeightBits switch
            {
                1 => Math.Sqrt(patch),
                > 1 and < 32 when kBitSpread is { } scale => scale * Math.Sqrt(patch),
                _ => 0.5,
            };
            var gamma = network.Parameter($"{names[i]}.gamma").Value;
            var beta = network.Parameter($"{names[i]}.beta").Value;
            var mean = network.Parameter($"{names[i]}.running_mean").Value;
            var variance = network.Parameter($"{names[i]}.running_var").Value;
            for (int c = 0; c < gamma.Length; c++)
            {
                gamma[c] = c % 7 == 3 ? 0f : (float)(rng.NextDouble() * 3 - 1.5);
                beta[c] = (float)(rng.NextDouble() - 0.5);
                mean[c] = (float)((rng.NextDouble() * 2 - 1) * spread);
                variance[c] = (float)((rng.NextDouble() * 1.5 + 0.3) * spread * spread);
            }
        }
        return network;
    }

    private static IEnumerable<KernelPath> TestPaths() => KernelDispatch.Runnable.Where(p => p != KernelPath.Auto);

    /// <summary><paramref name="count"/> x <paramref name="length"/> floats uniform in [-0.5, 1.5) from <paramref name="seed"/>.</summary>
    internal static float[] RandomInput(int count, int length, int seed)
    {
        var rng = new Random(seed);
        var input = new float[count * length];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(rng.NextDouble() * 2 - 0.5);
        return input;
    }

    /// <summary>Runs the network layer by layer (evaluation mode) and returns each named layer's output ("input" included; Flatten = its input).</summary>
    private static Dictionary<string, float[]> FloatPath(Network network, float[] input)
    {
        var outputs = new Dictionary<string, float[]> { ["input"] = input };
        var names = ModelPlanner.LayerNames(network.Definition);
        var current = input;
        int next = 0;
        for (int i = 0; i < names.Count; i++)
        {
            var kind = network.Definition.Layers[i].Kind;
            if (kind == LayerKind.SoftmaxCrossEntropy)
                continue;
            if (kind != LayerKind.Flatten)
            {
                var layer = network.Layers[next++];
                Assert.Equal(names[i], layer.Name);
                var output = new float[layer.OutputLength];
                layer.Forward(current, output, training: false);
                current = output;
            }
            outputs[names[i]] = current;
        }
        return outputs;
    }

    /// <summary><paramref name="network"/> converted with its own parameters.</summary>
    internal static PackedModel Convert(Network network) => ModelConverter.Convert(network.Definition, name => network.Parameter(name).Value);

    /// <summary>
    /// <paramref name="logits"/> (the session's, for <paramref name="input"/>) within 1e-4 (relative above 1) of
    /// <paramref name="expected"/>, and the session's classes the index of each sample's largest expected logit.
    /// </summary>
    internal static void AssertLogitsAndClasses(InferenceSession session, float[] input, int count, float[] logits, float[] expected)
    {
        for (int i = 0; i < logits.Length; i++)
            Assert.True(Math.Abs(logits[i] - expected[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"logit {i}: {logits[i]} vs {expected[i]}");
        var classes = session.Classify(input, count);
        int outputs = logits.Length / count;
        for (int s = 0; s < count; s++)
        {
            var row = expected.AsSpan(s * outputs, outputs);
            int best = 0;
            for (int j = 1; j < row.Length; j++)
                if (row[j] > row[best])
                    best = j;
            Assert.Equal(best, classes[s]);
        }
    }

    private static void AssertMatchesFloatPath(Network network, PackedModel model, int count, int seed)
    {
        var input = RandomInput(count, network.InputLength, seed);
        network.Forward(input, training: false);
        var expected = network.Output.ToArray();
        var session = model.CreateSession(count, KernelPath.Auto, keepStepOutputs: true);
        var logits = new float[count * model.OutputLength];
        session.Predict(input, count, logits);
        AssertLogitsAndClasses(session, input, count, logits, expected);

        // one sample at a time (the float convolution then splits each image across the cores): the same logits
        var single = new float[logits.Length];
        model.CreateSession(1).Predict(input, count, single);
        Assert.Equal(logits, single);

        session.Predict(input, count, logits);
        var floats = FloatPath(network, input);
        int checkedSteps = 0;
        for (int i = 0; i < model.Steps.Count; i++)
        {
            var step = model.Steps[i];
            if (!step.OutputBits)
                continue;
            var shape = step.Output;
            int rows = shape.Rank == 3 ? count * shape.Height * shape.Width : count;
            var want = new ulong[rows * SignPacking.WordsFor(shape.Channels)];
            SignPacking.Pack(floats[step.Last], rows, shape.Channels, want, KernelPath.Scalar);
            Assert.True(want.AsSpan().SequenceEqual(session.StepBits(i)), $"step {i} ({step}): packed bits differ from sign() of the float path's {step.Last}");
            checkedSteps++;
        }
        Assert.True(checkedSteps > 0);
    }

    [Fact]
    public void LeNetMatchesTheGeneratedNetworkBitForBit()
    {
        var network = Prepared(new GradientLeNet(24), seed: 3);
        var model = Convert(network);
        Assert.Equal(
            ["float_conv", "xnor_conv", "packed_max_pool", "xnor_dense", "bits_dense"],
            model.Steps.Select(s => PlanStep.OpName(s.Op)));
        AssertMatchesFloatPath(network, model, 24, seed: 11);
    }

    [Fact]
    public void TinyNetMatchesTheGeneratedNetwork()
    {
        var network = Prepared(new TinyNet(40), seed: 5);
        var model = Convert(network);
        AssertMatchesFloatPath(network, model, 40, seed: 12);

        // every kernel path gives the same predictions
        var input = RandomInput(40, network.InputLength, 12);
        var expected = model.CreateSession(40).Classify(input, 40);
        foreach (var path in TestPaths())
            Assert.Equal(expected, model.CreateSession(40, path).Classify(input, 40));
    }

    [Fact]
    public void MixedNetFallbacksMatchTheGeneratedNetwork()
    {
        var network = Prepared(new MixedNet(30), seed: 7);
        var model = Convert(network);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.Repack);
        Assert.Contains(model.Steps, s => s.Op == PlanOp.Affine);
        AssertMatchesFloatPath(network, model, 30, seed: 13);
    }

    [Fact]
    public void ThresholdAgreesWithBatchNormSignForEveryInteger()
    {
        const int k = 75;
        var rng = new Random(21);
        var bn = new BatchNormLayer("bn", 1, 2 * k + 1, 1);
        var x = Enumerable.Range(-k, 2 * k + 1).Select(y => (float)y).ToArray();
        var y = new float[x.Length];
        for (int trial = 0; trial < 400; trial++)
        {
            float gamma = trial % 10 switch { 0 => 0f, 1 => -0f, _ => (float)(rng.NextDouble() * 4 - 2) };
            float mean = trial % 3 == 0 ? rng.Next(-k, k + 1) : (float)((rng.NextDouble() * 2 - 1) * k * 1.2);
            float beta = trial % 4 == 0 ? 0f : (float)(rng.NextDouble() * 2 - 1);
            float variance = (float)(rng.NextDouble() * k + 1e-3);
            bn.Gamma.Value[0] = gamma;
            bn.Beta.Value[0] = beta;
            bn.RunningMean.Value[0] = mean;
            bn.RunningVar.Value[0] = variance;
            bn.Forward(x, y, training: false);
            float scale = ThresholdFolding.Scale(gamma, variance, ModelConverter.BatchNormEpsilon);
            float shift = ThresholdFolding.Shift(beta, mean, scale);
            int t = ThresholdFolding.Find(scale, shift, k, out bool flip);
            Assert.Equal(gamma < 0, flip);
            for (int i = 0; i < x.Length; i++)
            {
                int dot = (int)x[i];
                Assert.True((y[i] >= 0) == ((flip ? -dot : dot) >= t), $"gamma {gamma} beta {beta} mean {mean} var {variance}: y = {dot}");
            }
        }
    }

    [Fact]
    public void ThresholdEdgeCases()
    {
        // BN(y) = 0 exactly at the mean (beta 0): the dot at the threshold gives +1
        float scale = ThresholdFolding.Scale(0.7f, 3f, ModelConverter.BatchNormEpsilon);
        Assert.Equal(5, ThresholdFolding.Find(scale, ThresholdFolding.Shift(0f, 5f, scale), 20, out bool flip));
        Assert.False(flip);
        float negative = ThresholdFolding.Scale(-0.7f, 3f, ModelConverter.BatchNormEpsilon);
        Assert.Equal(-5, ThresholdFolding.Find(negative, ThresholdFolding.Shift(0f, 5f, negative), 20, out flip));
        Assert.True(flip);
        // gamma = 0: constant sign(beta)
        Assert.Equal(-20, ThresholdFolding.Find(0f, 0.5f, 20, out _));
        Assert.Equal(-20, ThresholdFolding.Find(0f, 0f, 20, out _));
        Assert.Equal(21, ThresholdFolding.Find(0f, -0.5f, 20, out _));
        // beyond the range: always +1 or always -1
        Assert.Equal(-20, ThresholdFolding.Find(1f, 100f, 20, out _));
        Assert.Equal(21, ThresholdFolding.Find(1f, -100f, 20, out _));
        Assert.Equal(21, ThresholdFolding.Find(float.NaN, 0f, 20, out _));
    }

    [Fact]
    public void ConvertsCheckpointsDeterministicallyAndSmall()
    {
        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            var network = Prepared(new GradientLeNet(4), seed: 9);
            string checkpoint = Path.Combine(directory.FullName, "lenet.safetensors");
            Checkpoint.Save(checkpoint, network.Parameters, new Dictionary<string, string> { ["network"] = NetworkSpecJson.Write(network.Definition) });
            string first = Path.Combine(directory.FullName, "a.bnnx"), second = Path.Combine(directory.FullName, "b.bnnx");
            var progress = new List<double>();
            ModelConverter.Convert(checkpoint, first, new SyncProgress(progress.Add));
            ModelConverter.Convert(checkpoint, second);
            Assert.Equal(1.0, progress[^1]);
            var bytes = File.ReadAllBytes(first);
            Assert.Equal(bytes, File.ReadAllBytes(second));
            long checkpointBytes = new FileInfo(checkpoint).Length;
            Assert.True(bytes.Length < 206_511 && bytes.Length * 10 < checkpointBytes, $"packed {bytes.Length} bytes, checkpoint {checkpointBytes}");

            var model = PackedModel.Load(first);
            Assert.Equal(PackedModel.FormatName, model.Metadata["format"]);
            model.Save(second);
            Assert.Equal(bytes, File.ReadAllBytes(second));
            var fromBytes = PackedModel.Load(bytes, "lenet.bnnx");
            var input = RandomInput(4, model.InputLength, 2);
            network.Forward(input, training: false);
            var logits = new float[4 * 10];
            fromBytes.Predict(input, 4, logits);
            for (int i = 0; i < logits.Length; i++)
                Assert.True(Math.Abs(logits[i] - network.Output[i]) <= 1e-4 * Math.Max(1, Math.Abs(network.Output[i])));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void DamagedFilesThrowModelFileException()
    {
        var network = Prepared(new TinyNet(2), seed: 4);
        var model = Convert(network);
        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            string path = Path.Combine(directory.FullName, "tiny.bnnx");
            model.Save(path);
            var bytes = File.ReadAllBytes(path);
            foreach (int length in new[] { 0, 5, 8, 20, bytes.Length / 2, bytes.Length - 8, bytes.Length - 1 })
                Assert.Throws<ModelFileException>(() => PackedModel.Load(bytes.AsMemory(0, length), "tiny.bnnx"));

            var flipped = (byte[])bytes.Clone();
            flipped[^3] ^= 0x10;
            var ex = Assert.Throws<ModelFileException>(() => PackedModel.Load(flipped, "tiny.bnnx"));
            Assert.Contains("checksum", ex.Message);
            Assert.Contains("tiny.bnnx", ex.Message);

            var metadata = new Dictionary<string, string>(model.Metadata) { ["format_version"] = "3" };
            SafeTensorsFile.Write(path, [.. model.Tensors], metadata);
            ex = Assert.Throws<ModelFileException>(() => PackedModel.Load(path));
            Assert.Contains("version", ex.Message);

            SafeTensorsFile.Write(path, [.. model.Tensors.Where(t => t.Name != "qconv1.threshold")], model.Metadata);
            ex = Assert.Throws<ModelFileException>(() => PackedModel.Load(path));
            Assert.Contains("qconv1.threshold", ex.Message);

            var wrongShape = model.Tensors.Select(t => t.Name == "fc1.bias" ? SafeTensor.Create<float>("fc1.bias", [2], [1f, 2f]) : t).ToList();
            SafeTensorsFile.Write(path, wrongShape, model.Metadata);
            ex = Assert.Throws<ModelFileException>(() => PackedModel.Load(path));
            Assert.Contains("fc1.bias", ex.Message);

            // a description with shapes (as version 1 wrote it) must carry the inferred ones
            string json = NetworkSpecJson.Write(model.Network);
            int at = json.IndexOf("\"output_shape\":[8,6,6]", StringComparison.Ordinal);
            Assert.True(at > 0);
            var tampered = new Dictionary<string, string>(model.Metadata)
            {
                ["network"] = json[..at] + "\"output_shape\":[8,7,7]" + json[(at + "\"output_shape\":[8,6,6]".Length)..],
            };
            SafeTensorsFile.Write(path, [.. model.Tensors], tampered);
            ex = Assert.Throws<ModelFileException>(() => PackedModel.Load(path));
            Assert.Contains("8x7x7", ex.Message);

            var otherPlan = new Dictionary<string, string>(model.Metadata) { ["plan"] = "float_conv conv1" };
            SafeTensorsFile.Write(path, [.. model.Tensors], otherPlan);
            Assert.Throws<ModelFileException>(() => PackedModel.Load(path));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void WrongKindsOfFileAreNamedWithTheFix()
    {
        var network = Prepared(new TinyNet(2), seed: 4);
        var directory = Directory.CreateTempSubdirectory("bnnx");
        try
        {
            string bare = Path.Combine(directory.FullName, "bare.safetensors"), output = Path.Combine(directory.FullName, "out.bnnx");
            Checkpoint.Save(bare, network.Parameters);
            var ex = Assert.Throws<ModelFileException>(() => ModelConverter.Convert(bare, output));
            Assert.Contains("'network'", ex.Message);
            ex = Assert.Throws<ModelFileException>(() => PackedModel.Load(bare));
            Assert.Contains("convert it first", ex.Message);

            string partial = Path.Combine(directory.FullName, "partial.safetensors");
            Checkpoint.Save(partial, [.. network.Parameters.Where(p => p.Name != "bn2.running_var")],
                new Dictionary<string, string> { ["network"] = NetworkSpecJson.Write(network.Definition) });
            ex = Assert.Throws<ModelFileException>(() => ModelConverter.Convert(partial, output));
            Assert.Contains("bn2.running_var", ex.Message);
            Assert.False(File.Exists(output));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void ChunkedConcurrentAndAllocationFreeInference()
    {
        var network = Prepared(new GradientLeNet(1), seed: 6);
        var model = Convert(network);
        const int count = 37;
        var input = RandomInput(count, model.InputLength, 8);
        var whole = new float[count * 10];
        model.CreateSession(64).Predict(input, count, whole);

        var session = model.CreateSession(16);
        var chunked = new float[count * 10];
        session.Predict(input, count, chunked);
        Assert.Equal(whole, chunked);
        // 15 samples: too few for two lanes, so one lane runs them all
        var fifteen = new float[15 * 10];
        session.Predict(input.AsSpan(0, 15 * model.InputLength), 15, fifteen);
        Assert.Equal(whole.AsSpan(0, 15 * 10).ToArray(), fifteen);
        session.Predict(input, count, chunked);
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.Predict(input, count, chunked);
        Span<int> classes = stackalloc int[count];
        session.Classify(input, count, classes);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        var results = new float[8][];
        Parallel.For(0, results.Length, i =>
        {
            var logits = new float[count * 10];
            for (int repeat = 0; repeat < 3; repeat++)
                model.Predict(input, count, logits);
            results[i] = logits;
        });
        foreach (var result in results)
            Assert.Equal(whole, result);

        var error = Assert.Throws<ArgumentException>(() => session.Predict(input.AsSpan(0, 100), 1, chunked));
        Assert.Contains("1x28x28", error.Message);
        Assert.Contains("784", error.Message);
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
