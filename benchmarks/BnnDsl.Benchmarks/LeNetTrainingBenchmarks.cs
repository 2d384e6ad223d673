// One training step (forward, loss, backward, Adam) of the binary LeNet against its float twin, batch 128, on all
// cores: the training-throughput number of the training issue (images/s = 128 / time).
using BenchmarkDotNet.Attributes;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Benchmarks;

/// <summary>
/// A full optimizer step on a fixed random batch (pixels normalized like MNIST). The binary network runs its
/// forward pass on XNOR kernels and its backward pass as float GEMMs with ±1 operands; the float twin runs SGEMM
/// everywhere. Throughput in images/s is <c>Batch / Mean</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(KernelBenchmarkConfig))]
public class LeNetTrainingBenchmarks
{
    [Params(128)]
    public int Batch { get; set; }

    private Network binary = null!, single = null!;
    private Optimizer binaryOptimizer = null!, floatOptimizer = null!;
    private float[] input = [];
    private int[] labels = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        input = new float[Batch * BinaryLeNet.InputSize];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(random.NextDouble() * 3.2 - 0.42);
        labels = [.. Enumerable.Range(0, Batch).Select(_ => random.Next(10))];
        binary = new BinaryLeNet(Batch);
        binary.Initialize(1);
        binaryOptimizer = new Adam(binary.Parameters);
        single = new FloatLeNet(Batch);
        single.Initialize(1);
        floatOptimizer = new Adam(single.Parameters);
    }

    private float Step(Network network, Optimizer optimizer)
    {
        network.Forward(input, training: true);
        float loss = network.Loss(labels);
        network.Backward(input);
        optimizer.Step(1e-4f);
        return loss;
    }

    [Benchmark(Baseline = true, Description = "float LeNet step")]
    public float FloatStep() => Step(single, floatOptimizer);

    [Benchmark(Description = "binary LeNet step")]
    public float BinaryStep() => Step(binary, binaryOptimizer);
}
