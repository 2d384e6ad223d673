// Adam and SGD against scalar textbook updates, clipping, decay roles, determinism, zero allocation and state round trips.
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Tests;

public class OptimizerTests
{
    // Lengths around the vector width (8 floats with AVX2, 16 with AVX-512) so both the vector loop and the tail run.
    private static Parameter[] Network(int seed)
    {
        var random = new Random(seed);
        Parameter[] parameters =
        [
            new("fc.weight", [3, 13], ParameterRole.Weight),
            new("conv.weight", [2, 17], ParameterRole.LatentWeight, bits: 1),
            new("fc.bias", [3], ParameterRole.Bias),
            new("bn.gamma", [9], ParameterRole.Scale),
            new("bn.running_mean", [9], ParameterRole.State),
        ];
        foreach (var p in parameters)
            for (int i = 0; i < p.Length; i++)
                p.Value[i] = p.Role == ParameterRole.LatentWeight ? random.NextSingle() * 1.6f - 0.8f : random.NextSingle() * 4 - 2;
        return parameters;
    }

    private static void FillGradients(Parameter[] parameters, int seed)
    {
        var random = new Random(seed);
        foreach (var p in parameters)
            for (int i = 0; i < p.Gradient.Length; i++)
                p.Gradient[i] = random.NextSingle() * 2 - 1;
    }

    private static bool Decays(Parameter p) => p.Role is ParameterRole.Weight or ParameterRole.LatentWeight;

    [Theory]
    [InlineData(0f)]
    [InlineData(0.05f)]
    public void AdamMatchesTextbookUpdate(float weightDecay)
    {
        const double Lr = 0.01, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
        var parameters = Network(1);
        var expected = parameters.Select(p => p.Value.Select(v => (double)v).ToArray()).ToArray();
        var m = parameters.Select(p => new double[p.Length]).ToArray();
        var v = parameters.Select(p => new double[p.Length]).ToArray();
        var adam = new Adam(parameters, weightDecay: weightDecay);

        for (int t = 1; t <= 6; t++)
        {
            FillGradients(parameters, 100 + t);
            adam.Step((float)Lr);
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                if (!p.Trainable)
                    continue;
                for (int i = 0; i < p.Length; i++)
                {
                    double g = p.Gradient[i];
                    m[k][i] = Beta1 * m[k][i] + (1 - Beta1) * g;
                    v[k][i] = Beta2 * v[k][i] + (1 - Beta2) * g * g;
                    double mHat = m[k][i] / (1 - Math.Pow(Beta1, t));
                    double vHat = v[k][i] / (1 - Math.Pow(Beta2, t));
                    double w = expected[k][i] * (1 - Lr * (Decays(p) ? weightDecay : 0));
                    w -= Lr * mHat / (Math.Sqrt(vHat) + Epsilon);
                    expected[k][i] = p.Role == ParameterRole.LatentWeight ? Math.Clamp(w, -1, 1) : w;
                }
            }
            for (int k = 0; k < parameters.Length; k++)
                for (int i = 0; i < parameters[k].Length; i++)
                    Assert.Equal(expected[k][i], parameters[k].Value[i], 2e-6);
        }
        Assert.Equal(6, adam.Steps);
    }

    [Theory]
    [InlineData(false, 0f)]
    [InlineData(false, 0.01f)]
    [InlineData(true, 0.01f)]
    public void SgdMatchesTextbookUpdate(bool nesterov, float weightDecay)
    {
        const double Lr = 0.05, Momentum = 0.9;
        var parameters = Network(2);
        var expected = parameters.Select(p => p.Value.Select(v => (double)v).ToArray()).ToArray();
        var buffer = parameters.Select(p => new double[p.Length]).ToArray();
        var sgd = new SgdMomentum(parameters, (float)Momentum, weightDecay, nesterov);

        for (int t = 1; t <= 5; t++)
        {
            FillGradients(parameters, 200 + t);
            sgd.Step((float)Lr);
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                if (!p.Trainable)
                    continue;
                for (int i = 0; i < p.Length; i++)
                {
                    double g = p.Gradient[i] + (Decays(p) ? weightDecay : 0) * expected[k][i];
                    buffer[k][i] = Momentum * buffer[k][i] + g;
                    double update = nesterov ? g + Momentum * buffer[k][i] : buffer[k][i];
                    double w = expected[k][i] - Lr * update;
                    expected[k][i] = p.Role == ParameterRole.LatentWeight ? Math.Clamp(w, -1, 1) : w;
                }
            }
            for (int k = 0; k < parameters.Length; k++)
                for (int i = 0; i < parameters[k].Length; i++)
                    Assert.Equal(expected[k][i], parameters[k].Value[i], 2e-6);
        }
    }

    [Fact]
    public void LatentWeightsAreClippedAfterEachStep()
    {
        var latent = new Parameter("q.weight", [21], ParameterRole.LatentWeight, bits: 1);
        var weight = new Parameter("f.weight", [21], ParameterRole.Weight);
        for (int i = 0; i < 21; i++)
        {
            latent.Value[i] = weight.Value[i] = 0.95f * (i % 2 == 0 ? 1 : -1);
            latent.Gradient[i] = weight.Gradient[i] = i % 2 == 0 ? -1 : 1;
        }
        var sgd = new SgdMomentum([latent, weight], momentum: 0);

        sgd.Step(0.5f);

        for (int i = 0; i < 21; i++)
        {
            Assert.Equal(i % 2 == 0 ? 1f : -1f, latent.Value[i]);
            Assert.Equal(i % 2 == 0 ? 1.45f : -1.45f, weight.Value[i], 1e-6f);
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void WeightDecayTouchesOnlyWeightsAndLatentWeights(string kind)
    {
        var parameters = Network(3);
        var before = parameters.Select(p => (float[])p.Value.Clone()).ToArray();
        Optimizer optimizer = kind == "adam" ? new Adam(parameters, weightDecay: 0.1f) : new SgdMomentum(parameters, weightDecay: 0.1f);

        optimizer.Step(0.5f);

        // Zero gradients: Adam's moments stay 0, so only the decay moves a value; w * (1 - 0.5 * 0.1) = 0.95 w.
        for (int k = 0; k < parameters.Length; k++)
            for (int i = 0; i < parameters[k].Length; i++)
                Assert.Equal(Decays(parameters[k]) ? before[k][i] * 0.95f : before[k][i], parameters[k].Value[i], 1e-6f);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    public void StepsAreBitIdenticalAcrossRuns(string kind)
    {
        static Parameter[] Run(string kind)
        {
            var parameters = Network(4);
            var optimizer = Create(kind, parameters);
            for (int t = 0; t < 7; t++)
            {
                FillGradients(parameters, 300 + t);
                optimizer.Step(0.02f);
            }
            return parameters;
        }

        var first = Run(kind);
        var second = Run(kind);

        for (int k = 0; k < first.Length; k++)
            Assert.Equal(Bits(first[k].Value), Bits(second[k].Value));
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    public void StepAllocatesNothing(string kind)
    {
        var parameters = Network(5);
        FillGradients(parameters, 5);
        var optimizer = Create(kind, parameters);
        optimizer.Step(0.01f);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 20; t++)
            optimizer.Step(0.01f);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    public void ExportedStateResumesBitExactly(string kind)
    {
        var straight = Network(6);
        var straightOptimizer = Create(kind, straight);
        for (int t = 0; t < 5; t++)
        {
            FillGradients(straight, 400 + t);
            straightOptimizer.Step(0.03f);
        }

        var first = Network(6);
        var firstOptimizer = Create(kind, first);
        for (int t = 0; t < 3; t++)
        {
            FillGradients(first, 400 + t);
            firstOptimizer.Step(0.03f);
        }
        var exported = firstOptimizer.State.Select(Copy).ToArray();
        var resumed = first.Select(Copy).ToArray();
        var resumedOptimizer = Create(kind, resumed);
        resumedOptimizer.ImportState(exported);
        Assert.Equal(3, resumedOptimizer.Steps);
        for (int t = 3; t < 5; t++)
        {
            FillGradients(resumed, 400 + t);
            resumedOptimizer.Step(0.03f);
        }

        Assert.Equal(5, resumedOptimizer.Steps);
        for (int k = 0; k < straight.Length; k++)
            Assert.Equal(Bits(straight[k].Value), Bits(resumed[k].Value));
        for (int k = 0; k < straightOptimizer.State.Count; k++)
            Assert.Equal(Bits(straightOptimizer.State[k].Value), Bits(resumedOptimizer.State[k].Value));
    }

    [Fact]
    public void StateNamesFollowTheParameters()
    {
        var parameters = Network(7);

        Assert.Equal(
            ["fc.weight.adam_m", "fc.weight.adam_v", "conv.weight.adam_m", "conv.weight.adam_v", "fc.bias.adam_m", "fc.bias.adam_v",
             "bn.gamma.adam_m", "bn.gamma.adam_v", "optimizer.step"],
            new Adam(parameters).State.Select(s => s.Name));
        Assert.Equal(
            ["fc.weight.sgd_momentum", "conv.weight.sgd_momentum", "fc.bias.sgd_momentum", "bn.gamma.sgd_momentum", "optimizer.step"],
            new SgdMomentum(parameters).State.Select(s => s.Name));
        Assert.All(new Adam(parameters).State, s => Assert.Equal(ParameterRole.State, s.Role));
        Assert.Equal([3, 13], new Adam(parameters).State[0].Shape);
        Assert.Equal([1], new Adam(parameters).State[^1].Shape);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var parameters = Network(8);
        var adam = new Adam(parameters);

        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => adam.Step(-1)).ParamName);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => adam.Step(float.NaN)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([parameters[0], parameters[0]])).ParamName);
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(parameters, beta1: 1)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => new SgdMomentum(parameters, weightDecay: -0.1f)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new SgdMomentum(parameters, momentum: 1)).ParamName);

        var missing = Assert.Throws<ArgumentException>(() => adam.ImportState(adam.State.Skip(1).ToArray()));
        Assert.Contains("fc.weight.adam_m", missing.Message);
        var sgdState = new SgdMomentum(parameters).State;
        Assert.Throws<ArgumentException>(() => adam.ImportState(sgdState));

        var badStep = adam.State.Select(Copy).ToArray();
        badStep[^1].Value[0] = 2.5f;
        Assert.Contains("optimizer.step", Assert.Throws<ArgumentException>(() => adam.ImportState(badStep)).Message);
        adam.State[^1].Value[0] = -1;
        Assert.Contains("optimizer.step", Assert.Throws<InvalidOperationException>(() => adam.Step(0.1f)).Message);
    }

    private static Optimizer Create(string kind, Parameter[] parameters) => kind switch
    {
        "adam" => new Adam(parameters, weightDecay: 0.01f),
        "sgd" => new SgdMomentum(parameters, weightDecay: 0.01f),
        _ => new SgdMomentum(parameters, momentum: 0.8f, weightDecay: 0.01f, nesterov: true),
    };

    private static Parameter Copy(Parameter source)
    {
        var copy = new Parameter(source.Name, source.Shape, source.Role, source.Bits);
        source.Value.CopyTo(copy.Value, 0);
        return copy;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
