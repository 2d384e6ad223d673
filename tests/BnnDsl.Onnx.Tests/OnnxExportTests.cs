// ONNX Runtime runs the exported float reference and must compute what the generated networks compute.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Onnx;

namespace BnnDsl.Onnx.Tests;

/// <summary>
/// Each network gets random parameters (BatchNorm statistics included) and random inputs; ONNX Runtime's logits
/// for the exported model must equal the generated network's evaluation-mode forward pass within 1e-4 relative
/// (<c>|onnx - ours| &lt;= 1e-4 · max(1, largest |logit| of the sample)</c>), with the same predicted class. The graph repeats our
/// arithmetic (signs, integer codes, the layers' own scale constants, BatchNorm as Mul + Add with our scale and
/// shift), so the only rounding that differs is the summation order of the float convolutions and dense layers
/// (about 1e-7 relative); 1e-4 leaves room for that through a few layers. With dyadic parameters (power-of-two
/// grids) pre-sign values hit 0 exactly and the float sums are exact, except in ResNet-18 where the 1x1 shortcut
/// projections of the grown activations need more than 24 bits: the logits must agree within 1e-6 relative (a few
/// ulps; one flipped sign would move them by orders of magnitude more).
/// </summary>
public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-4, DyadicTolerance = 1e-6;

    [Theory]
    [InlineData(false, 11)]
    [InlineData(true, 12)]
    public void LeNetLikeMatchesTheGeneratedNetwork(bool dyadic, int seed) => AssertMatches(new LeNetLike(3), seed, dyadic);

    [Theory]
    [InlineData(false, 21)]
    [InlineData(true, 22)]
    public void ResidualNetworkMatchesTheGeneratedNetwork(bool dyadic, int seed) => AssertMatches(new SmallResNet(3), seed, dyadic);

    [Theory]
    [InlineData(false, 31)]
    [InlineData(true, 32)]
    public void TwoBitNetworkMatchesTheGeneratedNetwork(bool dyadic, int seed) => AssertMatches(new TwoBitNet(3), seed, dyadic);

    [Theory]
    [InlineData(51)]
    [InlineData(52)]
    public void QuantizeDequantizeNetworkMatchesTheGeneratedNetwork(int seed) => AssertMatches(new WideBitNet(3), seed, dyadic: false);

    [Fact]
    public void ResNet18MatchesTheGeneratedNetworkAtBatch2() => AssertMatches(new ResNet18(2), seed: 41, dyadic: true);

    [Fact]
    public void OptimizedOnnxRuntimeSessionAgreesToo()
    {
        var network = new LeNetLike(4);
        OnnxRuntimeRunner.Randomize(network, 51, dyadic: false);
        var input = OnnxRuntimeRunner.Input(4 * network.InputLength, 52, dyadic: false);
        network.Forward(input, training: false);
        var onnx = OnnxRuntimeRunner.Run(OnnxExport.ToBytes(network), network.Definition.Input, input, 4, optimize: true, threads: 2);
        Logits.AssertClose(network.Output, onnx, 4, Tolerance);
    }

    [Fact]
    public void SignOfZeroIsPlusOne()
    {
        var network = new SignProbe(2);
        var weight = network.Parameter("fc1.weight").Value;
        for (int i = 0; i < 12; i++)
            weight[i * 12 + i] = 1f;
        float[] input = [0f, -0f, 1e-30f, -1e-30f, 0f, -3f, 2f, 0f, 0f, -0f, 5f, -1f, 0f, 0f, 0f, 0f, 0f, 0f, -2f, 0f, 0f, 7f, 0f, -0f];
        network.Forward(input, training: false);
        var onnx = OnnxRuntimeRunner.Run(OnnxExport.ToBytes(network), network.Definition.Input, input, 2);
        // The identity layer reads the NHWC flatten order, so the output is sign(input) element for element.
        var expected = input.Select(x => x >= 0f ? 1f : -1f).ToArray();
        Assert.Equal(expected, network.Output.ToArray());
        Assert.Equal(expected, onnx);
    }

    [Fact]
    public void SixteenBitActivationsAreTheRuntimeCodesExactly()
    {
        var network = new WideProbe(4);
        var weight = network.Parameter("fc1.weight").Value;
        for (int i = 0; i < 64; i++)
            weight[i * 64 + i] = 1f;
        // Ties (q + 1/2) / L, the false tie 0.3 (0.3f * 65535 rounds to a tie in float32), clip bounds and random values.
        var rng = new Random(16);
        var input = new float[4 * 64];
        for (int i = 0; i < input.Length; i++)
            input[i] = (i % 4) switch
            {
                0 => (float)((rng.Next(65535) + 0.5) / 65535),
                1 => rng.NextSingle() * 1.4f - 0.2f,
                2 => i % 8 == 2 ? 0.3f : 1f,
                _ => i % 8 == 3 ? -0f : 1.0000001f,
            };
        network.Forward(input, training: false);
        var onnx = OnnxRuntimeRunner.Run(OnnxExport.ToBytes(network), network.Definition.Input, input, 4);
        var expected = input.Select(x => UniformQuantizer.ActivationValue(x, 16)).ToArray();
        Assert.Equal(expected, network.Output.ToArray());
        Assert.Equal(expected, onnx);
    }

    [Fact]
    public void FloatPeerComputesTheFloatTwin()
    {
        // The float twin has the same layers and parameter names with every quantized layer 32-bit and no QActivation.
        var twin = new LeNetLikeFloat(2);
        OnnxRuntimeRunner.Randomize(twin, 61, dyadic: false);
        var input = OnnxRuntimeRunner.Input(2 * twin.InputLength, 62, dyadic: false);
        twin.Forward(input, training: false);
        byte[] model = OnnxExport.ToBytes(LeNetLike.Spec, name => twin.Parameter(name).Value, new OnnxExportOptions { FloatPeer = true });
        var onnx = OnnxRuntimeRunner.Run(model, LeNetLike.Spec.Input, input, 2);
        Logits.AssertClose(twin.Output, onnx, 2, Tolerance);
    }

    [Fact]
    public void TheModelCarriesTheSpecAndTheSameNetworkGivesTheSameBytes()
    {
        var network = new TwoBitNet(1);
        OnnxRuntimeRunner.Randomize(network, 91, dyadic: false);
        byte[] model = OnnxExport.ToBytes(network);
        Assert.Equal(model, OnnxExport.ToBytes(network));

        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model);
        var metadata = session.ModelMetadata;
        Assert.Equal("BnnDsl", metadata.ProducerName);
        Assert.Equal("TwoBitNet", metadata.GraphName);
        Assert.Equal(NetworkSpecJson.Write(network.Definition), NetworkSpecJson.Write(NetworkSpecJson.Read(metadata.CustomMetadataMap["bnndsl.network"])));
        Assert.Equal("false", metadata.CustomMetadataMap["bnndsl.float_peer"]);
        Assert.Equal([-1, 3, 8, 8], session.InputMetadata["input"].Dimensions);
        Assert.Equal([-1, 6], session.OutputMetadata["logits"].Dimensions);
    }

    [Fact]
    public void CheckpointExportWritesAFileOnnxRuntimeLoads()
    {
        string directory = Directory.CreateTempSubdirectory("bnn-onnx-").FullName;
        try
        {
            var network = new SmallResNet(2);
            OnnxRuntimeRunner.Randomize(network, 71, dyadic: true);
            string checkpoint = Path.Combine(directory, "small.safetensors"), onnxPath = Path.Combine(directory, "small.onnx");
            network.Save(checkpoint);
            var spec = OnnxExport.WriteCheckpoint(checkpoint, onnxPath);

            Assert.Equal(network.Definition.Name, spec.Name);
            Assert.Equal(["small.onnx", "small.safetensors"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
            var input = OnnxRuntimeRunner.Input(2 * network.InputLength, 72, dyadic: true);
            network.Forward(input, training: false);
            Logits.AssertClose(network.Output, OnnxRuntimeRunner.Run(File.ReadAllBytes(onnxPath), spec.Input, input, 2), 2, DyadicTolerance);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AFileThatIsNotACheckpointIsOneModelFileException()
    {
        string directory = Directory.CreateTempSubdirectory("bnn-onnx-").FullName;
        try
        {
            string bogus = Path.Combine(directory, "notes.safetensors");
            File.WriteAllText(bogus, "not a checkpoint");
            var error = Assert.Throws<ModelFileException>(() => OnnxExport.WriteCheckpoint(bogus, Path.Combine(directory, "out.onnx")));
            Assert.StartsWith(bogus + ":", error.Message);
            Assert.False(File.Exists(Path.Combine(directory, "out.onnx")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AMissingParameterIsAnArgumentExceptionNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(SignProbe.Spec, name => throw new KeyNotFoundException(name)));
        Assert.Contains("'fc1.weight'", error.Message);
    }

    private static void AssertMatches(Network network, int seed, bool dyadic)
    {
        int batch = network.BatchSize;
        OnnxRuntimeRunner.Randomize(network, seed, dyadic);
        var input = OnnxRuntimeRunner.Input(batch * network.InputLength, seed + 1, dyadic);
        network.Forward(input, training: false);
        var onnx = OnnxRuntimeRunner.Run(OnnxExport.ToBytes(network), network.Definition.Input, input, batch);
        Logits.AssertClose(network.Output, onnx, batch, dyadic ? DyadicTolerance : Tolerance);
    }
}
