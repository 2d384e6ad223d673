// The generated float reference path (ForwardReference: binary and k-bit layers simulated in float with SGEMM) against
// the evaluation forward (bit kernels) and the double-precision ReferenceNetwork, on LeNet, residual and 2-bit networks.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Training.Tests;

public sealed class FloatReferenceTests
{
    /// <summary>Every layer output of ForwardReference equals Forward's (evaluation mode) bit for bit; <paramref name="draw"/> names the case.</summary>
    private static void AssertForwardReferenceEqualsForward(Network network, float[] input, string draw)
    {
        network.Forward(input, training: false);
        var outputs = Enumerable.Range(0, network.Layers.Count).Select(i => network.LayerOutput(i).ToArray()).ToArray();
        network.ForwardReference(input);
        for (int i = 0; i < network.Layers.Count; i++)
            Assert.True(outputs[i].AsSpan().SequenceEqual(network.LayerOutput(i)),
                $"{draw}: layer {network.Layers[i].Name} ({network.Layers[i].GetType().Name}) differs between Forward and ForwardReference");
    }

    /// <summary>
    /// For fixed seeds: realistic BatchNorm statistics (<see cref="PackedModelTests.Prepared"/>), random inputs. The
    /// float reference must equal the evaluation forward exactly, layer by layer (every dot product of ±1 values, or
    /// of k-bit codes and levels, is an integer that float holds exactly), so every sign and every quantized code at
    /// a binary or k-bit boundary is the same. Against the double-precision reference in evaluation mode, on a draw
    /// where no sign input, k-bit rounding point or max-pool tie lies within 2e-5 of a boundary, the logits
    /// agree within 1e-5 of the largest logit: float accumulation of the float layers (a 25- to 512-term dot product
    /// and BatchNorm's scale and shift) is the only difference.
    /// </summary>
    private static void AssertReferenceMatches(Func<int, Network> create, int batch)
    {
        int compared = 0;
        for (int seed = 1; seed <= 20 && compared < 2; seed++)
        {
            var network = PackedModelTests.Prepared(create(batch), seed);
            var input = PackedModelTests.RandomInput(batch, network.InputLength, seed);
            AssertForwardReferenceEqualsForward(network, input, $"seed {seed}");

            var reference = new ReferenceNetwork(network.Definition, batch, name => network.Parameter(name).Value, evaluation: true);
            reference.Forward(input);
            bool marginal = reference.SignInputs.Any(v => Math.Abs(v) < 2e-5)
                || reference.PoolMargins.Any(m => m > 0 && m < 2e-5)
                || reference.ActivationMargins.Any(m => m < 2e-5) || reference.WeightMargins.Any(m => m < 1e-6);
            if (marginal)
                continue;
            var signs = network.Layers.Select((layer, i) => (layer, i)).Where(p => p.layer is SignLayer)
                .SelectMany(p => network.LayerOutput(p.i).ToArray()).ToArray();
            Assert.Equal(reference.SignInputs.Select(v => v >= 0 ? 1f : -1f), signs);
            double largest = reference.Logits.Max(Math.Abs);
            for (int i = 0; i < reference.Logits.Length; i++)
                Assert.True(Math.Abs(network.Output[i] - reference.Logits[i]) <= 1e-5 * largest,
                    $"seed {seed}, logit {i}: {network.Output[i]} vs reference {reference.Logits[i]} (largest {largest})");
            compared++;
        }
        Assert.True(compared == 2, "fewer than two well-conditioned draws in 20 seeds");
    }

    [Fact]
    public void LeNetReferenceEqualsTheBitKernelsAndTheDoubleReference() => AssertReferenceMatches(batch => new GradientLeNet(batch), batch: 3);

    [Fact]
    public void BinaryResNetReferenceEqualsTheBitKernelsAndTheDoubleReference() => AssertReferenceMatches(batch => new SmallResNet(batch), batch: 3);

    [Fact]
    public void TwoBitLeNetReferenceEqualsTheBitKernelsAndTheDoubleReference() => AssertReferenceMatches(batch => new TwoBitLeNet(batch), batch: 3);

    [Fact]
    public void TwoBitResNetReferenceEqualsTheBitKernelsAndTheDoubleReference() => AssertReferenceMatches(batch => new TwoBitResNet(batch), batch: 3);

    [Fact]
    public void ReferenceEqualsTheBitKernelsOnEveryKernelPath()
    {
        foreach (var path in KernelDispatch.Runnable)
            foreach (var network in new Network[] { new TinyNet(3, path), new TwoBitTinyNet(3, path) })
            {
                PackedModelTests.Prepared(network, seed: 4);
                AssertForwardReferenceEqualsForward(network, PackedModelTests.RandomInput(3, network.InputLength, seed: 4), $"{network.Definition.Name}, path {path}");
            }
    }

    [Fact]
    public void SpecNetworkReferenceEqualsTheGeneratedOne()
    {
        var network = PackedModelTests.Prepared(new GradientLeNet(2), seed: 3);
        var spec = new SpecNetwork(network.Definition, 2);
        foreach (var parameter in spec.Parameters)
            network.Parameter(parameter.Name).Value.CopyTo(parameter.Value, 0);
        var input = new float[2 * network.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = (i % 13) / 6f - 0.5f;
        network.ForwardReference(input);
        spec.ForwardReference(input);
        Assert.Equal(network.Output.ToArray(), spec.Output.ToArray());
    }

    [Fact]
    public void ForwardReferenceAllocatesNothingAndChecksTheInput()
    {
        var network = PackedModelTests.Prepared(new TwoBitResNet(2), seed: 2);
        var input = new float[2 * network.InputLength];
        network.ForwardReference(input);
        long before = GC.GetAllocatedBytesForCurrentThread();
        network.ForwardReference(input);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        var error = Assert.Throws<ArgumentException>(() => network.ForwardReference(input.AsSpan(1)));
        Assert.Contains("3x8x8", error.Message);
    }
}
