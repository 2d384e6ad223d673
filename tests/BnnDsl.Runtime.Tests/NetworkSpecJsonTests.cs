// NetworkSpec to JSON and back: equal records for several networks, the exact text of a small one, and every
// malformed input as a ModelFileException naming the source.
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Tests;

public class NetworkSpecJsonTests
{
    private static readonly SourceLocation Here = new("Net.cs", 1, 2, 3, 4, 5, 6);

    private static NetworkSpec Declare(string name, TensorShape input, params LayerAttribute[] layers) =>
        new(name, input, new EquatableArray<LayerSpec>(layers.Select(l => l.ToLayerSpec())));

    private static NetworkSpec Located(NetworkSpec spec) =>
        spec with { Location = Here, Layers = new(spec.Layers.Select(l => l with { Location = Here })) };

    internal static NetworkSpec LeNet() => ShapeInference.Infer(Declare("LeNet", TensorShape.Image(1, 28, 28),
        new ConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new QConvolutionAttribute(64, 5), new BatchNormAttribute(), new MaxPoolAttribute(2), new QActivationAttribute(1),
        new FlattenAttribute(), new QFullyConnectedAttribute(512), new BatchNormAttribute(), new QActivationAttribute(1),
        new FullyConnectedAttribute(10), new SoftmaxCrossEntropyAttribute())).GetNetworkOrThrow();

    public static TheoryData<string> Networks() => ["lenet", "options", "declared", "empty"];

    private static NetworkSpec Network(string which) => which switch
    {
        "lenet" => LeNet(),
        "options" => Located(ShapeInference.Infer(Declare("Options \"quoted\" ✓", TensorShape.Image(3, 16, 16),
            new QConvolutionAttribute(32, 3) { Stride = 2, Pad = 1, Padding = Padding.Zero, WeightBits = 2, ActBits = 4 },
            new AvgPoolAttribute(2), new ReLUAttribute(), new GlobalAvgPoolAttribute(),
            new QFullyConnectedAttribute(10) { WeightBits = 8, ActBits = 8 })).GetNetworkOrThrow()),
        "declared" => Located(Declare("Declared", TensorShape.Vector(784), new FlattenAttribute(), new FullyConnectedAttribute(10))),
        _ => new NetworkSpec("Empty", TensorShape.Unknown, default),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void ReadOfWriteIsTheSameNetwork(string which)
    {
        var spec = Network(which);

        var read = NetworkSpecJson.Read(NetworkSpecJson.Write(spec));

        // Locations are not stored ("options" and "declared" have them); everything else, inferred shapes included, comes back.
        if (spec.Location is null)
            Assert.Equal(spec, read);
        var withoutLocations = spec with { Location = null, Layers = new(spec.Layers.Select(l => l with { Location = null })) };
        Assert.Equal(withoutLocations, read);
        Assert.Equal(spec.Output, read.Output);
        Assert.Equal(spec.Layers.Select(l => (l.InputShape, l.OutputShape)), read.Layers.Select(l => (l.InputShape, l.OutputShape)));
    }

    [Fact]
    public void TextOfASmallNetwork()
    {
        var spec = ShapeInference.Infer(Declare("Tiny", TensorShape.Image(1, 4, 4), new QConvolutionAttribute(2, 3), new FlattenAttribute()))
            .GetNetworkOrThrow();

        Assert.Equal(
            """{"name":"Tiny","input":[1,4,4],"layers":[""" +
            """{"kind":"QConvolution","units":2,"kernel":3,"stride":1,"pad":0,"padding":"One","weight_bits":1,"activation_bits":1,"input_shape":[1,4,4],"output_shape":[2,2,2]},""" +
            """{"kind":"Flatten","units":0,"kernel":0,"stride":1,"pad":0,"padding":"One","weight_bits":0,"activation_bits":0,"input_shape":[2,2,2],"output_shape":[8]}]}""",
            NetworkSpecJson.Write(spec));
    }

    [Fact]
    public void OmittedLayerFieldsTakeTheirDefaults()
    {
        var spec = NetworkSpecJson.Read("""{"name":"N","input":[],"layers":[{"kind":"ReLU"}]}""");

        Assert.Equal(new NetworkSpec("N", TensorShape.Unknown, new EquatableArray<LayerSpec>([new LayerSpec(LayerKind.ReLU)])), spec);
    }

    [Theory]
    [InlineData("{\"name\":", "not valid JSON")]
    [InlineData("[]", "not an object")]
    [InlineData("""{"name":"N","input":[1]}""", "lacks 'layers'")]
    [InlineData("""{"input":[1],"layers":[]}""", "lacks 'name'")]
    [InlineData("""{"name":"N","input":[1],"layers":[],"extra":1}""", "unknown key 'extra'")]
    [InlineData("""{"name":"N","name":"M","input":[1],"layers":[]}""", "'name' twice")]
    [InlineData("""{"name":3,"input":[1],"layers":[]}""", "not a string")]
    [InlineData("""{"name":"N","input":[1,2],"layers":[]}""", "not a shape")]
    [InlineData("""{"name":"N","input":"1x2","layers":[]}""", "not a shape")]
    [InlineData("""{"name":"N","input":[1.5],"layers":[]}""", "not a 32-bit whole number")]
    [InlineData("""{"name":"N","input":[1],"layers":{}}""", "not an array")]
    [InlineData("""{"name":"N","input":[1],"layers":[3]}""", "layer 1 is a JSON number")]
    [InlineData("""{"name":"N","input":[1],"layers":[{"units":3}]}""", "layer 1 lacks 'kind'")]
    [InlineData("""{"name":"N","input":[1],"layers":[{"kind":"ReLU"},{"kind":"Conv"}]}""", "layer 2's 'kind' is \"Conv\"")]
    [InlineData("""{"name":"N","input":[1],"layers":[{"kind":"3"}]}""", "not one of QConvolution")]
    [InlineData("""{"name":"N","input":[1],"layers":[{"kind":"ReLU","padding":"one"}]}""", "not one of One, Zero")]
    [InlineData("""{"name":"N","input":[1],"layers":[{"kind":"ReLU","units":99999999999}]}""", "'units' is 99999999999")]
    [InlineData("""{"name":"N","input":[1],"layers":[{"kind":"ReLU","unit":1}]}""", "unknown key 'unit'")]
    [InlineData("""{"name":"\ud800","input":[1],"layers":[]}""", "not valid JSON")]
    public void MalformedJsonIsRejected(string json, string fault)
    {
        var error = Assert.Throws<ModelFileException>(() => NetworkSpecJson.Read(json));

        Assert.Equal("<metadata>", error.Path);
        Assert.StartsWith("<metadata>: ", error.Message);
        Assert.Contains(fault, error.Message);
        Assert.Equal("model.safetensors", Assert.Throws<ModelFileException>(() => NetworkSpecJson.Read(json, "model.safetensors")).Path);
    }

    [Fact]
    public void ShapesNoFactoryMakesAreRejectedOnWrite()
    {
        var spec = new NetworkSpec("Odd", new TensorShape(2, 3, 4, 5), default);

        Assert.Equal("spec", Assert.Throws<ArgumentException>(() => NetworkSpecJson.Write(spec)).ParamName);
    }
}
