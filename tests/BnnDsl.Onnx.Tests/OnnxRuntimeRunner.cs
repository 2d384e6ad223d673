// Runs an exported model in ONNX Runtime on NHWC batches, and fills networks with random parameters for the tests.
using BnnDsl.Runtime.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BnnDsl.Onnx.Tests;

/// <summary>ONNX Runtime on our tensors, and random parameter draws.</summary>
internal static class OnnxRuntimeRunner
{
    /// <summary>Runs <paramref name="model"/> on <paramref name="batch"/> NHWC samples of <paramref name="shape"/>; returns the logits.</summary>
    public static float[] Run(byte[] model, TensorShape shape, float[] nhwc, int batch, bool optimize = false, int threads = 1)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = threads,
        };
        using var session = new InferenceSession(model, options);
        int[] dims = shape.Rank == 3 ? [batch, shape.Channels, shape.Height, shape.Width] : [batch, shape.Channels];
        var tensor = new DenseTensor<float>(ToNchw(nhwc, shape, batch), dims);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        var output = results.Single();
        Assert.Equal("logits", output.Name);
        return [.. output.AsEnumerable<float>()];
    }

    /// <summary>Our NHWC batch as NCHW.</summary>
    public static float[] ToNchw(float[] nhwc, TensorShape shape, int batch)
    {
        if (shape.Rank != 3)
            return nhwc;
        int c = shape.Channels, h = shape.Height, w = shape.Width;
        var nchw = new float[nhwc.Length];
        for (int b = 0; b < batch; b++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < c; ch++)
                        nchw[((b * c + ch) * h + y) * w + x] = nhwc[((b * h + y) * w + x) * c + ch];
        return nchw;
    }

    /// <summary>
    /// Random parameters. <paramref name="dyadic"/>: values on coarse power-of-two grids (weights k/8, BatchNorm scales
    /// ±2^-m with sqrt(running_var + eps) a power of two, integer means), so that every float sum in the network is
    /// exact whatever the summation order, and pre-sign values hit 0 exactly; otherwise uniform floats.
    /// </summary>
    public static void Randomize(Network network, int seed, bool dyadic)
    {
        var rng = new Random(seed);
        foreach (var parameter in network.Parameters)
        {
            var values = parameter.Value;
            string suffix = parameter.Name[(parameter.Name.LastIndexOf('.') + 1)..];
            for (int i = 0; i < values.Length; i++)
                values[i] = (suffix, dyadic) switch
                {
                    ("gamma", true) => (rng.Next(2) == 0 ? -1 : 1) * MathF.ScaleB(1f, -rng.Next(1, 5)),
                    ("gamma", false) => (rng.Next(2) == 0 ? -1 : 1) * (0.5f + rng.NextSingle()),
                    ("beta", true) => rng.Next(-8, 9) / 4f,
                    ("beta", false) => rng.NextSingle() - 0.5f,
                    ("running_mean", true) => rng.Next(-4, 5),
                    ("running_mean", false) => rng.NextSingle() * 4f - 2f,
                    ("running_var", true) => VarianceWithExactRoot(MathF.ScaleB(1f, rng.Next(-1, 3))),
                    ("running_var", false) => 0.5f + 3f * rng.NextSingle(),
                    (_, true) => rng.Next(-8, 9) / 8f,
                    _ => rng.Next(32) == 0 ? 0f : rng.NextSingle() * 2f - 1f,
                };
        }
    }

    /// <summary>Random inputs: k/4 in [-2, 2] (a ninth exactly 0) when dyadic, else uniform in [-2, 2].</summary>
    public static float[] Input(int length, int seed, bool dyadic)
    {
        var rng = new Random(seed);
        var input = new float[length];
        for (int i = 0; i < input.Length; i++)
            input[i] = dyadic ? rng.Next(-8, 9) / 4f : rng.NextSingle() * 4f - 2f;
        return input;
    }

    /// <summary>A running variance v with MathF.Sqrt(v + 1e-5f) == <paramref name="root"/> exactly.</summary>
    private static float VarianceWithExactRoot(float root)
    {
        float v = root * root - 1e-5f;
        for (int step = 0; step < 64; step++)
        {
            if (MathF.Sqrt(v + 1e-5f) == root)
                return v;
            v = v + 1e-5f > root * root ? MathF.BitDecrement(v) : MathF.BitIncrement(v);
        }
        throw new InvalidOperationException($"No float variance has the square root {root} after adding epsilon.");
    }
}
