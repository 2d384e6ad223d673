// The whole generated LeNet (float first and last layers, XNOR middle layers) against ReferenceNetwork: the same
// loss and the same gradient for every parameter, on random inputs with fixed seeds.
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Training.Tests;

/// <summary>The binary LeNet of the training issue, declared here so the test does not depend on the example program.</summary>
[Network(1, 28, 28)]
[Convolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[QConvolution(64, 5)]
[BatchNorm]
[MaxPool(2)]
[QActivation(1)]
[Flatten]
[QFullyConnected(512)]
[BatchNorm]
[QActivation(1)]
[FullyConnected(10)]
[SoftmaxCrossEntropy]
public partial class GradientLeNet;

public sealed class LeNetGradientTests
{
    /// <summary>
    /// Runs the generated network and the reference on the same random batch. A sign input within 2e-5 of 0 or of
    /// the STE clip ±1, a k-bit activation within 2e-5 of a rounding threshold or clip bound, a k-bit latent weight
    /// within 1e-6 of one (weights are the same floats on both sides), or a max-pool window whose two largest values
    /// differ by less than 1e-5, would let float rounding decide a branch, so such a draw is skipped for the next
    /// seed (exact ties are fine: both take the same side). The seeds are fixed, so the test is deterministic.
    /// The logits and the loss must agree.
    /// </summary>
    private static (Network Network, ReferenceNetwork Reference) RunWellConditioned(Func<int, Network> create, int batch, int classes)
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
            bool marginal = reference.SignInputs.Any(v => Math.Abs(v) < 2e-5 || Math.Abs(Math.Abs(v) - 1) < 2e-5)
                || reference.PoolMargins.Any(m => m > 0 && m < 1e-5)
                || reference.ActivationMargins.Any(m => m < 2e-5) || reference.WeightMargins.Any(m => m < 1e-6);
            if (marginal)
                continue;

            network.Forward(input, training: true);
            float loss = network.Loss(labels);
            network.Backward(input);
            double largest = reference.Logits.Max(Math.Abs);
            for (int i = 0; i < reference.Logits.Length; i++)
                Assert.True(Math.Abs(network.Output[i] - reference.Logits[i]) <= 1e-4 * largest + 1e-5,
                    $"logit {i}: {network.Output[i]} vs reference {reference.Logits[i]}");
            Assert.Equal(reference.Loss, loss, 1e-4);
            return (network, reference);
        }
        throw new InvalidOperationException("No well-conditioned draw in 50 seeds.");
    }

    /// <summary><see cref="RunWellConditioned"/>, then <see cref="AssertGradientsMatch"/>: the forward and every parameter gradient.</summary>
    internal static void AssertForwardAndGradientsMatch(Func<int, Network> create, int batch, int classes)
    {
        var (network, reference) = RunWellConditioned(create, batch, classes);
        AssertGradientsMatch(network, reference);
    }

    private static void AssertGradientsMatch(Network network, ReferenceNetwork reference)
    {
        var trainable = network.Parameters.Where(p => p.Trainable).ToList();
        Assert.Equal(trainable.Select(p => p.Name).Order(), reference.Gradients.Keys.Order());
        foreach (var parameter in trainable)
        {
            double[] expected = reference.Gradients[parameter.Name];
            double scale = expected.Max(Math.Abs);
            if (scale < 1e-9)
            {
                // A bias or shift followed by BatchNorm cancels out: its gradient is zero up to rounding, in both implementations.
                Assert.True(parameter.Name.EndsWith(".bias", StringComparison.Ordinal) || parameter.Name.EndsWith(".beta", StringComparison.Ordinal),
                    $"{parameter.Name}: the reference gradient is all zero");
                Assert.All(parameter.Gradient, g => Assert.True(Math.Abs(g) < 1e-5, $"{parameter.Name}: {g} should be 0"));
                continue;
            }
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(parameter.Gradient[i] - expected[i]) <= 2e-3 * scale + 1e-7,
                    $"{parameter.Name}[{i}]: {parameter.Gradient[i]} vs reference {expected[i]} (largest |gradient| {scale})");
        }
    }

    [Fact]
    public void LeNetGradientEqualsTheFloatReference() =>
        AssertForwardAndGradientsMatch(batch => new GradientLeNet(batch), batch: 4, classes: 10);

    [Fact]
    public void TinyNetWithPaddedBinaryConvGradientEqualsTheFloatReference() =>
        AssertForwardAndGradientsMatch(batch => new TinyNet(batch), batch: 6, classes: 3);
}
