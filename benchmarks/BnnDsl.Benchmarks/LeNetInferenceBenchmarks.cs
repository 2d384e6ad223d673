// Inference of the binary LeNet: the packed model (.bnnx through the interpreter) against the float path of the
// same trained network (the generated class in evaluation mode), batch 1, 32 and 128, on all cores.
using BenchmarkDotNet.Attributes;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Benchmarks;

/// <summary>
/// One forward pass of a batch. The float path runs the training-time layers in evaluation mode (float first
/// convolution, BatchNorm, float max pooling, the binary layers with XNOR kernels but float activations between
/// them); the packed model folds BatchNorm + sign into integer thresholds and keeps activations as bits between
/// binary layers. The weights are random (speed does not depend on their values); images/s = Batch / Mean.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(KernelBenchmarkConfig))]
public class LeNetInferenceBenchmarks
{
    [Params(1, 32, 128)]
    public int Batch { get; set; }

    private Network network = null!;
    private InferenceSession session = null!;
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
        input = new float[Batch * BinaryLeNet.InputSize];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(random.NextDouble() * 3.2 - 0.42);
        logits = new float[Batch * BinaryLeNet.OutputSize];
    }

    [Benchmark(Baseline = true, Description = "float path (generated, eval mode)")]
    public void FloatPath() => network.Forward(input, training: false);

    [Benchmark(Description = "packed model (interpreter)")]
    public void Packed() => session.Predict(input, Batch, logits);
}
