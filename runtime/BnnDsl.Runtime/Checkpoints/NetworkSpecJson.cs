// The NetworkSpec IR as JSON, the form checkpoints and packed models carry it in their metadata.
using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BnnDsl.Runtime.Checkpoints;

/// <summary>
/// Writes a <see cref="NetworkSpec"/> as compact JSON and reads it back, so that <c>Read(Write(spec)) == spec</c>
/// (inferred shapes included; source locations are not stored):
/// <code>
/// {"name":"LeNet","input":[1,28,28],"layers":[{"kind":"QConvolution","units":64,"kernel":5,"stride":1,"pad":0,
///   "padding":"One","weight_bits":1,"activation_bits":1,"input_shape":[64,12,12],"output_shape":[64,8,8]}, ...]}
/// </code>
/// Enums are written by name; a shape is <c>[C, H, W]</c>, <c>[features]</c>, or <c>[]</c> when unknown. When reading,
/// <c>kind</c> is required and the other layer fields default as in <see cref="LayerSpec"/>. Malformed JSON, unknown
/// or repeated keys, unknown enum names and wrong value types throw <see cref="ModelFileException"/> whose
/// <see cref="ModelFileException.Path"/> is the <c>source</c> passed to <see cref="Read"/> (by default <c>&lt;metadata&gt;</c>).
/// </summary>
public static class NetworkSpecJson
{
    /// <summary>The <see cref="ModelFileException.Path"/> of errors when the caller names no file.</summary>
    public const string DefaultSource = "<metadata>";

    private const string Fix = "store the network with NetworkSpecJson.Write, or correct the JSON by hand";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>The JSON text of <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">A shape is not one <see cref="TensorShape"/>'s factories make (so it would not read back equal).</exception>
    public static string Write(NetworkSpec spec) => Write(spec, compact: false);

    /// <summary>
    /// The JSON text of <paramref name="spec"/>; with <paramref name="compact"/>, layer fields equal to their
    /// defaults and the inferred layer shapes are left out (they read back as defaults and unknown shapes, which
    /// <see cref="ShapeInference"/> restores), as packed models store their network.
    /// </summary>
    /// <exception cref="ArgumentException">A shape is not one <see cref="TensorShape"/>'s factories make (so it would not read back equal).</exception>
    public static string Write(NetworkSpec spec, bool compact)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("name", spec.Name);
            WriteShape(json, "input", spec.Input, "the network input");
            json.WriteStartArray("layers");
            for (int i = 0; i < spec.Layers.Count; i++)
            {
                var layer = spec.Layers[i];
                json.WriteStartObject();
                json.WriteString("kind", layer.Kind.ToString());
                if (!compact || layer.Units != 0)
                    json.WriteNumber("units", layer.Units);
                if (!compact || layer.Kernel != 0)
                    json.WriteNumber("kernel", layer.Kernel);
                if (!compact || layer.Stride != 1)
                    json.WriteNumber("stride", layer.Stride);
                if (!compact || layer.Pad != 0)
                    json.WriteNumber("pad", layer.Pad);
                if (!compact || layer.Padding != Padding.One)
                    json.WriteString("padding", layer.Padding.ToString());
                if (!compact || layer.WeightBits != 0)
                    json.WriteNumber("weight_bits", layer.WeightBits);
                if (!compact || layer.ActivationBits != 0)
                    json.WriteNumber("activation_bits", layer.ActivationBits);
                if (!compact)
                {
                    WriteShape(json, "input_shape", layer.InputShape, $"layer {i + 1}'s input");
                    WriteShape(json, "output_shape", layer.OutputShape, $"layer {i + 1}'s output");
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads the network that <paramref name="json"/> describes.</summary>
    /// <param name="json">Text written by <see cref="Write(NetworkSpec, bool)"/> (or by hand in the same form).</param>
    /// <param name="source">Where the text came from, for error messages (e.g. the checkpoint's path).</param>
    /// <exception cref="ModelFileException">The text is not a well-formed network description.</exception>
    public static NetworkSpec Read(string json, string source = DefaultSource)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrEmpty(source);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string? name = null;
            TensorShape? input = null;
            List<LayerSpec>? layers = null;
            foreach (var property in Properties(source, root, "the network description"))
            {
                switch (property.Name)
                {
                    case "name": name = Text(source, property.Value, "name"); break;
                    case "input": input = Shape(source, property.Value, "input"); break;
                    case "layers": layers = Layers(source, property.Value); break;
                    default: throw Unknown(source, property.Name, "the network description", "name, input, layers");
                }
            }
            if (name is null || input is null || layers is null)
                throw new ModelFileException(source, $"the network description lacks '{(name is null ? "name" : input is null ? "input" : "layers")}'", Fix);
            return new NetworkSpec(name, input.Value, new EquatableArray<LayerSpec>(layers));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string escape such as \ud800 that decodes to no valid text.
            throw new ModelFileException(source, $"the network description is not valid JSON ({ex.Message})", Fix, ex);
        }
    }

    private static List<LayerSpec> Layers(string source, JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new ModelFileException(source, $"'layers' is a JSON {Kind(array)}, not an array", Fix);
        var layers = new List<LayerSpec>(array.GetArrayLength());
        foreach (var element in array.EnumerateArray())
        {
            string where = $"layer {layers.Count + 1}";
            LayerKind? kind = null;
            int units = 0, kernel = 0, stride = 1, pad = 0, weightBits = 0, activationBits = 0;
            var padding = Padding.One;
            TensorShape inputShape = TensorShape.Unknown, outputShape = TensorShape.Unknown;
            foreach (var property in Properties(source, element, where))
            {
                // the field's name for error messages, built only when one is thrown
                var field = new Field(where, property.Name);
                switch (property.Name)
                {
                    case "kind": kind = Enum<LayerKind>(source, property.Value, field); break;
                    case "units": units = Int(source, property.Value, field); break;
                    case "kernel": kernel = Int(source, property.Value, field); break;
                    case "stride": stride = Int(source, property.Value, field); break;
                    case "pad": pad = Int(source, property.Value, field); break;
                    case "padding": padding = Enum<Padding>(source, property.Value, field); break;
                    case "weight_bits": weightBits = Int(source, property.Value, field); break;
                    case "activation_bits": activationBits = Int(source, property.Value, field); break;
                    case "input_shape": inputShape = Shape(source, property.Value, field); break;
                    case "output_shape": outputShape = Shape(source, property.Value, field); break;
                    default:
                        throw Unknown(source, property.Name, where, "kind, units, kernel, stride, pad, padding, weight_bits, activation_bits, input_shape, output_shape");
                }
            }
            if (kind is null)
                throw new ModelFileException(source, $"{where} lacks 'kind'", Fix);
            layers.Add(new LayerSpec(kind.Value, units, kernel, stride, pad, padding, weightBits, activationBits)
            {
                InputShape = inputShape,
                OutputShape = outputShape,
            });
        }
        return layers;
    }

    private static List<JsonProperty> Properties(string source, JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new ModelFileException(source, $"{what} is a JSON {Kind(element)}, not an object", Fix);
        var properties = new List<JsonProperty>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Add(property.Name))
                throw new ModelFileException(source, $"{what} names '{property.Name}' twice", Fix);
            properties.Add(property);
        }
        return properties;
    }

    private static ModelFileException Unknown(string source, string name, string where, string known) =>
        new(source, $"{where} has an unknown key '{name}'", $"use only {known}");

    private static string Text(string source, JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw new ModelFileException(source, $"'{field}' is a JSON {Kind(value)}, not a string", Fix);

    /// <summary>A place in the description ("layer 3's 'units'"), formatted only for an error message.</summary>
    private readonly record struct Field(string Where, string? Name)
    {
        public static implicit operator Field(string where) => new(where, null);

        public override string ToString() => Name is null ? Where : $"{Where}'s '{Name}'";
    }

    private static int Int(string source, JsonElement value, Field field) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number
            : throw new ModelFileException(source, $"{field} is {value.GetRawText()}, not a 32-bit whole number", Fix);

    private static T Enum<T>(string source, JsonElement value, Field field)
        where T : struct, Enum
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            var names = EnumNames<T>.Names;
            for (int i = 0; i < names.Length; i++)
                if (value.ValueEquals(names[i]))
                    return EnumNames<T>.Values[i];
        }
        throw new ModelFileException(source, $"{field} is {value.GetRawText()}, not one of {string.Join(", ", System.Enum.GetNames<T>())}", Fix);
    }

    /// <summary>An enum's names and values, looked up once per type.</summary>
    private static class EnumNames<T>
        where T : struct, Enum
    {
        public static readonly T[] Values = System.Enum.GetValues<T>();
        public static readonly string[] Names = [.. Values.Select(v => v.ToString())];
    }

    private static TensorShape Shape(string source, JsonElement value, Field field)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            int length = value.GetArrayLength();
            var dims = new int[length];
            for (int i = 0; i < length; i++)
                dims[i] = value[i].ValueKind == JsonValueKind.Number && value[i].TryGetInt32(out int number) ? number : Int(source, value[i], $"{field} entry {i + 1}");
            switch (length)
            {
                case 0: return TensorShape.Unknown;
                case 1: return TensorShape.Vector(dims[0]);
                case 3: return TensorShape.Image(dims[0], dims[1], dims[2]);
            }
        }
        throw new ModelFileException(source, $"{field} is {value.GetRawText()}, not a shape", "write [C, H, W], [features], or [] for an unknown shape");
    }

    private static void WriteShape(Utf8JsonWriter json, string key, TensorShape shape, string what)
    {
        json.WriteStartArray(key);
        if (shape == TensorShape.Image(shape.Channels, shape.Height, shape.Width))
        {
            json.WriteNumberValue(shape.Channels);
            json.WriteNumberValue(shape.Height);
            json.WriteNumberValue(shape.Width);
        }
        else if (shape == TensorShape.Vector(shape.Channels))
        {
            json.WriteNumberValue(shape.Channels);
        }
        else if (shape != TensorShape.Unknown)
        {
            throw new ArgumentException($"The shape of {what} is rank {shape.Rank} ({shape.Channels}, {shape.Height}, {shape.Width}); " +
                "build shapes with TensorShape.Image, TensorShape.Vector or TensorShape.Unknown.", "spec");
        }
        json.WriteEndArray();
    }

    private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();
}
