// Residual blocks end to end: both front ends give the same network, the generated forward/backward equals the
// double-precision reference, and a generated ResNet-18 runs a training step.
using System.Diagnostics;

namespace BnnDsl.Training.Tests;

public sealed class ResidualNetworkTests
{
    private const string SmallResNetText = """
        network SmallResNet input 3x8x8
        Convolution filters=8 kernel=3 pad=1
        BatchNorm
        repeat 2
          residual; QActivation; QConvolution filters=8 kernel=3 pad=1; BatchNorm; end
        end
        residual
          QActivation
          QConvolution filters=16 kernel=3 stride=2 pad=1
          BatchNorm
        shortcut
          AvgPool size=2
          Convolution filters=16 kernel=1
          BatchNorm
        end
        residual
          residual; QActivation; QConvolution filters=16 kernel=3 pad=1 padding=zero; BatchNorm; end
          BatchNorm
        end
        GlobalAvgPool
        FullyConnected units=3
        SoftmaxCrossEntropy
        """;

    private static NetworkSpec WithoutLocations(NetworkSpec spec) => spec with
    {
        Location = null,
        Layers = new EquatableArray<LayerSpec>(spec.Layers.Select(l => l with { Location = null })),
    };

    private static NetworkSpec ParseText(string text, string path)
    {
        var (network, diagnostics) = BnnTextParser.Parse(text, path);
        Assert.Empty(diagnostics);
        return network!;
    }

    private static string RepositoryFile(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "BnnDsl.sln")))
                return Path.Combine(directory.FullName, relativePath);
        throw new InvalidOperationException($"No BnnDsl.sln above {AppContext.BaseDirectory}; run the tests from the repository.");
    }

    [Fact]
    public void SmallResNetTextAndAttributesGiveTheSameNetwork()
    {
        Assert.Equal(WithoutLocations(SmallResNet.Spec), WithoutLocations(ParseText(SmallResNetText, "small.bnn")));
        Assert.Equal(32, SmallResNet.Spec.Layers.Count);
    }

    [Fact]
    public void ResNet18TextAndAttributesGiveTheSameNetwork()
    {
        string path = RepositoryFile(Path.Combine("examples", "ResNet18", "resnet18.bnn"));
        var text = ParseText(File.ReadAllText(path), path);
        Assert.Equal(WithoutLocations(ResNet18.Spec), WithoutLocations(text));
        Assert.True(File.ReadAllLines(path).Count(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')) <= 45, "the text form of ResNet-18 should stay short");

        var layers = ResNet18.Spec.Layers;
        Assert.Equal(16, layers.Count(l => l.Kind == LayerKind.QConvolution));
        Assert.Equal(16, layers.Count(l => l.Kind == LayerKind.Residual));
        Assert.Equal(3, layers.Count(l => l.Kind == LayerKind.Shortcut));
        Assert.Equal(TensorShape.Image(512, 4, 4), layers.Single(l => l.Kind == LayerKind.GlobalAvgPool).InputShape);
        Assert.Equal(TensorShape.Vector(10), ResNet18.Spec.Output);
    }

    [Fact]
    public void SmallResNetGradientEqualsTheFloatReference() => AssertGradientEqualsTheReference(batch => new SmallResNet(batch), batch: 4, classes: 3);

    [Fact]
    public void CornerCasesGradientEqualsTheFloatReference() => AssertGradientEqualsTheReference(batch => new CornerResNet(batch), batch: 5, classes: 4);

    /// <summary>As in <see cref="LeNetGradientTests"/>: draws whose sign inputs sit within 2e-5 of 0 or ±1 are skipped.</summary>
    private static void AssertGradientEqualsTheReference(Func<int, Runtime.Networks.Network> create, int batch, int classes)
    {
        for (int seed = 1; seed <= 50; seed++)
        {
            var network = create(batch);
            network.Initialize(seed);
            var rng = new Random(seed);
            var input = new float[batch * network.InputLength];
            for (int i = 0; i < input.Length; i++)
                input[i] = (float)(rng.NextDouble() * 4 - 1);
            var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();

            var reference = new ReferenceNetwork(network.Definition, batch, name => network.Parameter(name).Value);
            reference.ForwardBackward(input, labels);
            if (reference.SignInputs.Any(v => Math.Abs(v) < 2e-5 || Math.Abs(Math.Abs(v) - 1) < 2e-5))
                continue;

            network.Forward(input, training: true);
            float loss = network.Loss(labels);
            network.Backward(input);
            Assert.Equal(reference.Loss, loss, 1e-4);

            var trainable = network.Parameters.Where(p => p.Trainable).ToList();
            Assert.Equal(trainable.Select(p => p.Name).Order(), reference.Gradients.Keys.Order());
            foreach (var parameter in trainable)
            {
                double[] expected = reference.Gradients[parameter.Name];
                double scale = expected.Max(Math.Abs);
                Assert.True(scale > 0, $"{parameter.Name}: the reference gradient is all zero, the test would prove nothing");
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(parameter.Gradient[i] - expected[i]) <= 2e-3 * scale + 1e-7,
                        $"{parameter.Name}[{i}]: {parameter.Gradient[i]} vs reference {expected[i]} (largest |gradient| {scale})");
            }
            return;
        }
        throw new InvalidOperationException("No well-conditioned draw in 50 seeds.");
    }

    [Fact]
    public void GeneratedResNet18RunsATrainingStep()
    {
        var watch = Stopwatch.StartNew();
        const int batch = 2;
        var network = new ResNet18(batch);
        network.Initialize(seed: 7);
        var rng = new Random(7);
        var input = new float[batch * ResNet18.InputSize];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(rng.NextDouble() * 2 - 1);

        network.Forward(input, training: true);
        float loss = network.Loss([3, 8]);
        network.Backward(input);

        Assert.True(float.IsFinite(loss) && loss > 0, $"loss {loss}");
        Assert.Null(network.FindNonFinite());
        var stem = network.Parameter("conv1.weight").Gradient;
        Assert.Contains(stem, g => g != 0);
        Assert.All(network.Parameters.Where(p => p.Trainable), p => Assert.All(p.Gradient, g => Assert.True(float.IsFinite(g))));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"one step took {watch.Elapsed}");
    }
}
