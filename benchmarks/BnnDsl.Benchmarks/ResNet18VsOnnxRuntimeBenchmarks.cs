// Binary / 2-bit / 4-bit ResNet-18 CIFAR through the packed interpreter and the generated packed classes against the
// float ResNet-18 of the same architecture in ONNX Runtime (CPU provider), batch 1 and 32, 1 and 2 intra-op threads.
using BenchmarkDotNet.Attributes;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Onnx;
using Microsoft.ML.OnnxRuntime;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;
using PackedSession = BnnDsl.Runtime.Deployment.InferenceSession;

namespace BnnDsl.Benchmarks;

/// <summary>
/// One forward pass of a batch of 3 × 32 × 32 images. Baseline: ONNX Runtime running the float peer of the network
/// (<see cref="OnnxExportOptions.FloatPeer"/>: every quantized layer float32, i.e. the float ResNet-18 of the same
/// architecture), graph optimizations on (ORT_ENABLE_ALL), <see cref="Threads"/> intra-op threads, sequential
/// execution, input and output bound to preallocated buffers. Ours: the packed model of the
/// <see cref="Bits"/>-bit network (<see cref="ResNet18Variants"/>) through <see cref="PackedSession"/> on
/// <see cref="Threads"/> threads, and the same model through the <c>Packed</c> class generated from the embedded
/// file (<c>ResNet18</c>, <c>ResNet18W2A2</c>, <c>ResNet18W4A4</c>: the same PackedOps with literal shapes, no
/// step dispatch). The baseline does not depend on
/// <see cref="Bits"/> (the float peer of every variant is the same float network); it runs in each group so that
/// every ratio has its baseline. Random weights; images/s = Batch / Mean.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(KernelBenchmarkConfig))]
public class ResNet18VsOnnxRuntimeBenchmarks
{
    [Params(1, 2, 4)]
    public int Bits { get; set; }

    [Params(1, 32)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private OrtSession? onnx;
    private SessionOptions? onnxOptions;
    private RunOptions? runOptions;
    private OrtValue[] onnxInputs = [], onnxOutputs = [];
    private readonly string[] inputNames = [OnnxExport.InputName], outputNames = [OnnxExport.OutputName];
    private PackedSession? packed;
    private PackedNetwork? generated;
    private float[] input = [], logits = [];

    [GlobalSetup(Target = nameof(OnnxRuntimeFloat))]
    public void SetupOnnxRuntime()
    {
        var spec = ResNet18Variants.Spec(Bits);
        var parameters = ResNet18Variants.RandomParameters(spec, seed: 42);
        byte[] model = OnnxExport.ToBytes(spec, name => parameters[name], new OnnxExportOptions { FloatPeer = true });
        onnxOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Threads,
            InterOpNumThreads = 1,
        };
        onnx = new OrtSession(model, onnxOptions);
        runOptions = new RunOptions();
        input = Images(spec);
        logits = new float[Batch * (int)spec.Output.Elements];
        onnxInputs = [OrtValue.CreateTensorValueFromMemory(input, [Batch, spec.Input.Channels, spec.Input.Height, spec.Input.Width])];
        onnxOutputs = [OrtValue.CreateTensorValueFromMemory(logits, [Batch, spec.Output.Elements])];
    }

    [GlobalSetup(Target = nameof(PackedInterpreter))]
    public void SetupPacked()
    {
        var spec = ResNet18Variants.Spec(Bits);
        var parameters = ResNet18Variants.RandomParameters(spec, seed: 42);
        packed = ModelConverter.Convert(spec, name => parameters[name]).CreateSession(Batch, threads: Threads);
        input = Images(spec);
        logits = new float[Batch * (int)spec.Output.Elements];
    }

    [GlobalSetup(Target = nameof(PackedGenerated))]
    public void SetupGenerated()
    {
        var spec = Bits switch { 1 => ResNet18.Spec, 2 => ResNet18W2A2.Spec, 4 => ResNet18W4A4.Spec, _ => throw new InvalidOperationException($"No generated ResNet-18 at {Bits} bits.") };
        var parameters = ResNet18Variants.RandomParameters(spec, seed: 42);
        var model = ModelConverter.Convert(spec, name => parameters[name]);
        generated = Bits switch
        {
            1 => new ResNet18.Packed(model, Batch, threads: Threads),
            2 => new ResNet18W2A2.Packed(model, Batch, threads: Threads),
            _ => new ResNet18W4A4.Packed(model, Batch, threads: Threads),
        };
        input = Images(spec);
        logits = new float[Batch * (int)spec.Output.Elements];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var value in onnxInputs.Concat(onnxOutputs))
            value.Dispose();
        runOptions?.Dispose();
        onnx?.Dispose();
        onnxOptions?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime, float ResNet-18 (CPU)")]
    public void OnnxRuntimeFloat() =>
        onnx!.Run(runOptions!, inputNames, onnxInputs, outputNames, onnxOutputs);

    [Benchmark(Description = "packed model (interpreter)")]
    public void PackedInterpreter() => packed!.Predict(input, Batch, logits);

    [Benchmark(Description = "packed model (generated class)")]
    public void PackedGenerated() => generated!.Predict(input, Batch, logits);

    private float[] Images(NetworkSpec spec)
    {
        var random = new Random(7);
        var images = new float[Batch * (int)spec.Input.Elements];
        for (int i = 0; i < images.Length; i++)
            images[i] = random.NextSingle() * 4f - 2f;
        return images;
    }
}
