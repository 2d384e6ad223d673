// Inference of the binary LeNet: the packed model (.bnnx through the interpreter and through the generated
// LeNet.Packed class) against the float reference of the same network (BMXNet-style simulation), batch 1, 32 and 128.
using BenchmarkDotNet.Attributes;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Benchmarks;

/// <summary>
/// One forward pass of a batch, on all cores. The baseline is the generated float reference
/// (<c>Network.ForwardReference</c>): the binary layers simulated in float, sign(x) and sign(W) as ±1 multiplied by
/// the same im2col + SGEMM as the float layers, as a float framework computes a binary network. The evaluation
/// forward runs the training-time layers (XNOR kernels, float activations between them); the packed model folds
/// BatchNorm + sign into integer thresholds and keeps activations as bits between binary layers, run by the
/// interpreter (<c>InferenceSession</c>) and by the generated <c>BinaryLeNet.Packed</c> (the same plan as a flat
/// list of calls with literal shapes). The weights are random (speed does not depend on their values);
/// images/s = Batch / Mean. The target: packed at least 5x the float reference at batch 32.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(KernelBenchmarkConfig))]
public class LeNetInferenceBenchmarks
{
    [Params(1, 32, 128)]
    public int Batch { get; set; }

    private Network network = null!;
    private InferenceSession session = null!;
    private BinaryLeNet.Packed packed = null!;
    private float[] input = [], logits = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        network = new BinaryLeNet(Batch);
        network.Initialize(1);
        foreach (var parameter in network.Parameters)
            if (parameter.Name.EndsWith(".running_mean", StringComparison.Ordinal) || parameter.Name.EndsWith(".beta", StringComparison.Ordinal))
                for (int i = 0; i < parameter.Length; i++)
                    parameter.Value[i] = (float)(random.NextDouble() - 0.5);
        var model = ModelConverter.Convert(network.Definition, name => network.Parameter(name).Value);
        session = model.CreateSession(Batch);
        packed = new BinaryLeNet.Packed(model, Batch);
        input = new float[Batch * BinaryLeNet.InputSize];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(random.NextDouble() * 3.2 - 0.42);
        logits = new float[Batch * BinaryLeNet.OutputSize];
    }

    [Benchmark(Baseline = true, Description = "float reference (generated, binary layers simulated in float)")]
    public void FloatReference() => network.ForwardReference(input);

    [Benchmark(Description = "float path (generated, eval mode, XNOR layers)")]
    public void FloatPath() => network.Forward(input, training: false);

    [Benchmark(Description = "packed model (interpreter)")]
    public void Packed() => session.Predict(input, Batch, logits);

    [Benchmark(Description = "packed model (generated BinaryLeNet.Packed)")]
    public void GeneratedPacked() => packed.Predict(input, Batch, logits);
}
