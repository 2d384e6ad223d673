// Every layer: forward + backward allocate nothing after a warm-up call, and two runs give identical bits.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Layers;
using static BnnDsl.Runtime.Tests.Layers.LayerTestKit;

namespace BnnDsl.Runtime.Tests.Layers;

public class LayerSteadyStateTests
{
    /// <summary>One layer of each kind, at sizes large enough to run on several threads.</summary>
    private static Layer[] AllLayers() =>
    [
        new Conv2dLayer("conv", 8, 28, 28, 1, 16, 5, 1, 0),
        new Conv2dLayer("conv_nobias", 2, 6, 6, 3, 4, 3, 2, 1, bias: false),
        new BinaryConv2dLayer("bconv", 8, 12, 12, 64, 32, 5, 1, 0),
        new BinaryConv2dLayer("bconv_zero", 2, 7, 7, 37, 8, 3, 2, 1, BinaryPadding.Zero),
        new DenseLayer("fc", 16, 300, 40),
        new BinaryDenseLayer("bfc", 16, 1024, 64),
        new BatchNormLayer("bn", 8, 24 * 24, 16),
        new MaxPoolLayer("maxpool", 8, 24, 24, 16, 2, 2),
        new AvgPoolLayer("avgpool", 4, 9, 9, 5, 3, 2, 1),
        new GlobalAvgPoolLayer("gap", 4, 5, 5, 7),
        new SignLayer("sign", 8, 5000),
        new ReLULayer("relu", 8, 5000),
        new QuantizeLayer("quant", 8, 5000, 4),
        new QuantizeLayer("quant16", 8, 5000, 16),
        new Conv2dLayer("qdq_conv", 2, 7, 7, 5, 6, 3, 1, 1, bias: false, weightBits: 12, activationBits: 1),
        new DenseLayer("qdq_fc", 4, 100, 20, bias: false, weightBits: 1, activationBits: 16),
    ];

    [Fact]
    public void ForwardAndBackwardAllocateNothingAfterWarmUp()
    {
        foreach (var layer in AllLayers())
        {
            var random = new Random(40);
            layer.Initialize(random);
            var x = Floats(random, layer.InputLength, 1.5f);
            var y = new float[layer.OutputLength];
            var dy = Floats(random, layer.OutputLength);
            var dx = new float[x.Length];
            long bytes = AllocatedBytes(() =>
            {
                layer.Forward(x, y, training: true);
                layer.Backward(x, y, dy, dx);
                layer.Forward(x, y, training: false);
            });
            Assert.True(bytes == 0, $"{layer.Name} allocated {bytes} bytes in a steady-state step.");
        }
        var loss = new SoftmaxCrossEntropy(16, 10);
        var logits = Floats(new Random(1), 160);
        var labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
        var d = new float[160];
        Assert.Equal(0, AllocatedBytes(() =>
        {
            loss.Forward(logits, labels);
            loss.Backward(d);
        }));
    }

    [Fact]
    public void TwoRunsGiveIdenticalBits()
    {
        var first = Run();
        var second = Run();
        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++)
            Assert.True(first[i].AsSpan().SequenceEqual(second[i]), $"Output {i} differs between two runs.");
    }

    private static List<float[]> Run()
    {
        var results = new List<float[]>();
        foreach (var layer in AllLayers())
        {
            var random = new Random(41);
            layer.Initialize(random);
            var x = Floats(random, layer.InputLength, 1.5f);
            var y = new float[layer.OutputLength];
            var dy = Floats(random, layer.OutputLength);
            var dx = new float[x.Length];
            layer.Forward(x, y, training: true);
            layer.Backward(x, y, dy, dx);
            results.Add(y);
            results.Add(dx);
            results.AddRange(layer.Parameters.Select(p => p.Trainable ? p.Gradient : p.Value));
        }
        return results;
    }
}
