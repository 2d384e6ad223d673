// Builds test networks from the same attributes users write.
namespace BnnDsl.Dsl.Tests;

internal static class Networks
{
    public static NetworkSpec Declare(string name, TensorShape input, params LayerAttribute[] layers) =>
        new(name, input, new EquatableArray<LayerSpec>(layers.Select((l, i) => l.ToLayerSpec(At(i + 1)))), At(0));

    /// <summary>A location whose line tells which layer (0 = the network) a diagnostic points at.</summary>
    public static SourceLocation At(int line) => new("Test.cs", line * 10, 5, line, 1, line, 6);

    public static NetworkSpec LeNet() => Declare("LeNet", TensorShape.Image(1, 28, 28),
        new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new FlattenAttribute(), new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute());
}
