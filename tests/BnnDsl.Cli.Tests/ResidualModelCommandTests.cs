// `bnn convert / verify / summary` on a residual network with binary and k-bit blocks: every step agrees, and the
// summary lists the packed plan with the adds, the bit-serial steps and their tensor bytes.
using BnnDsl.Deployment;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using static BnnDsl.Cli.Tests.CliTestKit;

namespace BnnDsl.Cli.Tests;

public sealed class ResidualModelCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bnn-cli-residual").FullName;

    /// <summary>A binary identity block, a downsampling binary block with a float shortcut, a 2-bit block and a 4-bit dense layer, on 1x8x8 images.</summary>
    private static NetworkSpec Spec { get; } = ShapeInference.Infer(new NetworkSpec("SmallResidual", TensorShape.Image(1, 8, 8), new EquatableArray<LayerSpec>(new LayerAttribute[]
    {
        new ConvolutionAttribute(8, 3) { Pad = 1 }, new BatchNormAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(8, 3) { Pad = 1 }, new BatchNormAttribute(), new EndResidualAttribute(),
        new ResidualAttribute(), new QActivationAttribute(1), new QConvolutionAttribute(16, 3) { Stride = 2, Pad = 1 }, new BatchNormAttribute(),
        new ShortcutAttribute(), new AvgPoolAttribute(2), new ConvolutionAttribute(16, 1), new BatchNormAttribute(), new EndResidualAttribute(),
        new ResidualAttribute(), new QActivationAttribute(2), new QConvolutionAttribute(16, 3) { Pad = 1, WeightBits = 2, ActBits = 2 }, new BatchNormAttribute(),
        new EndResidualAttribute(),
        new GlobalAvgPoolAttribute(), new QFullyConnectedAttribute(8) { WeightBits = 4, ActBits = 4 }, new BatchNormAttribute(), new FullyConnectedAttribute(3),
        new SoftmaxCrossEntropyAttribute(),
    }.Select(a => a.ToLayerSpec())))).GetNetworkOrThrow();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void ConvertVerifyAndSummaryRunTheNewSteps()
    {
        string checkpoint = Path.Combine(directory, "residual.safetensors"), model = Path.Combine(directory, "residual.bnnx");
        var network = new SpecNetwork(Spec, 1);
        network.Initialize(3);
        var rng = new Random(4);
        foreach (var parameter in network.Parameters)
            if (parameter.Name.EndsWith("running_mean", StringComparison.Ordinal) || parameter.Name.EndsWith("beta", StringComparison.Ordinal)
                || parameter.Name.EndsWith("gamma", StringComparison.Ordinal))
                for (int i = 0; i < parameter.Value.Length; i++)
                    parameter.Value[i] = (float)(rng.NextDouble() * 2 - 1);
        network.Save(checkpoint);
        SmallModelFiles.WriteImages(Path.Combine(directory, "t10k-images-idx3-ubyte"), 40, 6);

        var (code, output, error) = Run("convert", checkpoint, "-o", model);
        Assert.True(code == CommandLine.Success, output + error);

        (code, output, error) = Run("verify", model, checkpoint, "--data", directory);
        Assert.True(code == CommandLine.Success, output + error);
        Assert.DoesNotContain("MISMATCH", output);
        var steps = PackedModel.Load(model).Steps;
        Assert.Contains(steps, s => s.Op == PlanOp.Add && s.PackSign);
        foreach (var op in new[] { PlanOp.Add, PlanOp.XnorConv, PlanOp.BitSerialConv, PlanOp.BitSerialDense })
            Assert.Contains(PlanStep.OpName(op) + " ", output);
        Assert.Contains("floats+bits", output);
        Assert.Contains("predictions: 40 of 40 agree", output);

        // the same check on raw float32 samples (.f32), the input form of networks that take no MNIST images
        string raw = Path.Combine(directory, "samples.f32");
        var samples = new float[12 * 64];
        for (int i = 0; i < samples.Length; i++)
            samples[i] = (float)(rng.NextDouble() * 3 - 1);
        File.WriteAllBytes(raw, System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()).ToArray());
        (code, output, error) = Run("verify", model, checkpoint, "--data", raw, "--count", "10");
        Assert.True(code == CommandLine.Success, output + error);
        Assert.Contains("predictions: 10 of 10 agree", output);

        (code, output, error) = Run("summary", model);
        Assert.True(code == CommandLine.Success, output + error);
        Assert.Contains("Packed plan", output);
        Assert.Contains("step 3 + step 1", output.Replace("  ", " ", StringComparison.Ordinal));
        foreach (var step in steps)
            Assert.Contains(PlanStep.OpName(step.Op) + " ", output);
    }
}
