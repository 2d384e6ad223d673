// Each diagnostic the generator reports: its id and the (zero-based) line of the attribute that caused it; no code for a
// network with errors.
using Microsoft.CodeAnalysis;

namespace BnnDsl.Generator.Tests;

public class GeneratorDiagnosticTests
{
    [Theory]
    [InlineData("BNN0001", 2, "[QActivation(0)]")]
    [InlineData("BNN0001", 2, "[QConvolution(8, 3, WeightBits = 64)]")]
    [InlineData("BNN0003", 1, "")]
    [InlineData("BNN0004", 3, "[MaxPool(4)]\n[QConvolution(8, 9)]")]
    [InlineData("BNN0005", 2, "[FullyConnected(10)]")]
    [InlineData("BNN0006", 2, "[QConvolution(8, 3, Stride = 0)]")]
    [InlineData("BNN0006", 2, "[QConvolution(8, 3, Padding = (Padding)3)]")]
    [InlineData("BNN0007", 4, "[Flatten]\n[ReLU]\n[AvgPool(2)]")]
    [InlineData("BNN0015", 2, "[SoftmaxCrossEntropy]\n[ReLU]")]
    public void LayerDiagnosticIsReportedAtItsAttribute(string id, int line, string layers)
    {
        AssertSingle(id, line, $"using BnnDsl;\n[Network(1, 28, 28)]\n{layers}\npublic partial class Net;");
    }

    /// <summary>Every bit width 1..32 runs: 9..31 bits and mixed widths are quantize-dequantize float layers, no BNN0015.</summary>
    [Theory]
    [InlineData("[QConvolution(8, 3, WeightBits = 2)]", "Conv2dLayer(\"qconv1\", batchSize, 28, 28, 1, 8, 3, 1, 0, bias: false, weightBits: 2, activationBits: 1, padding: global::BnnDsl.Kernels.Cpu.BinaryPadding.One, path: path")]
    [InlineData("[Flatten]\n[QFullyConnected(8, WeightBits = 12, ActBits = 12)]", "DenseLayer(\"qfc1\", batchSize, 784, 8, bias: false, weightBits: 12, activationBits: 12, path: path")]
    [InlineData("[Flatten]\n[QFullyConnected(8, WeightBits = 1, ActBits = 32)]", "DenseLayer(\"qfc1\", batchSize, 784, 8, bias: false, weightBits: 1, activationBits: 32, path: path")]
    [InlineData("[QConvolution(8, 3, WeightBits = 4, ActBits = 8)]", "QuantizedConv2dLayer(\"qconv1\", batchSize, 28, 28, 1, 8, 3, 1, 0, 4, 8, path: path")]
    [InlineData("[ReLU]\n[QActivation(12)]", "QuantizeLayer(\"qact1\", batchSize, 784, 12, path: path")]
    [InlineData("[ReLU]\n[QActivation(32)]", "QuantizeLayer(\"qact1\", batchSize, 784, 32, path: path")]
    public void EveryBitWidthGeneratesItsLayer(string layers, string construction)
    {
        var (result, output) = GeneratorHarness.Run($"using BnnDsl;\n[Network(1, 28, 28)]\n{layers}\npublic partial class Net;");

        Assert.Empty(GeneratorHarness.Problems(result));
        Assert.Contains(construction, Assert.Single(result.GeneratedSources).SourceText.ToString());
        GeneratorHarness.Load(output);
    }

    [Theory]
    [InlineData("[Network]")]
    [InlineData("[Network(1, 0, 28)]")]
    public void Bnn0002IsReportedAtTheNetworkAttribute(string network)
    {
        AssertSingle("BNN0002", 1, $"using BnnDsl;\n{network}\n[ReLU]\npublic partial class Net;");
    }

    [Theory]
    [InlineData("[Network(1, 8, 8)] [ReLU] public class Net { }")]
    [InlineData("[Network(1, 8, 8)] [ReLU] public partial class Net<T> { }")]
    [InlineData("[Network(1, 8, 8)] [ReLU] public partial record Net;")]
    [InlineData("[Network(1, 8, 8)] [ReLU] public static partial class Net { }")]
    [InlineData("[Network(1, 8, 8)] [ReLU] public partial class Net : System.Exception { }")]
    [InlineData("public partial class Outer { [Network(1, 8, 8)] [ReLU] public partial class Net { } }")]
    public void Bnn0008NetworkClassMustBeTopLevelPartial(string declaration)
    {
        AssertSingle("BNN0008", 1, $"using BnnDsl;\n{declaration}");
    }

    private static void AssertSingle(string id, int line, string source)
    {
        var (result, output) = GeneratorHarness.Run(source);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal(GeneratorHarness.FileName, span.Path);
        Assert.Equal(line, span.StartLinePosition.Line);
        Assert.Empty(result.GeneratedSources);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }
}
