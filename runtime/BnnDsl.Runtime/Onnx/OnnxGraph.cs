// An ONNX graph under construction (nodes, float initializers, one input, one output) and its ModelProto encoding.
using System.Globalization;

namespace BnnDsl.Runtime.Onnx;

/// <summary>
/// Collects the nodes and initializers of one ONNX graph in topological order and encodes the model. Field numbers
/// are those of <c>onnx/onnx.proto</c> (ONNX IR version 7, the one of opset 13): ModelProto ir_version 1,
/// producer_name 2, producer_version 3, doc_string 6, graph 7, opset_import 8, metadata_props 14;
/// OperatorSetIdProto domain 1, version 2; GraphProto node 1, name 2, initializer 5, doc_string 10, input 11,
/// output 12; NodeProto input 1, output 2, name 3, op_type 4, attribute 5; AttributeProto name 1, f 2, i 3, ints 8,
/// type 20 (FLOAT 1, INT 2, INTS 7); TensorProto dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9;
/// ValueInfoProto name 1, type 2; TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2;
/// TensorShapeProto dim 1; Dimension dim_value 1, dim_param 2; StringStringEntryProto key 1, value 2.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The ONNX IR version written (7 goes with opset 13).</summary>
    public const long IrVersion = 7;

    /// <summary>The default-domain opset the graph's operators are taken from.</summary>
    public const long OpsetVersion = 13;

    private const int FloatType = 1, Int64Type = 7, DoubleType = 11;
    private const int AttributeFloat = 1, AttributeInt = 2, AttributeInts = 7;

    private readonly List<Node> nodes = [];
    private readonly List<Initializer> initializers = [];
    private readonly HashSet<string> names = new(StringComparer.Ordinal);

    /// <summary>An attribute of a node: an integer, a list of integers or a float.</summary>
    public sealed record Attribute(string Name, long? Int = null, long[]? Ints = null, float? Float = null);

    private sealed record Node(string OpType, string Name, string[] Inputs, string Output, Attribute[] Attributes);

    private sealed record Initializer(string Name, long[] Dims, float[]? Floats, long[]? Longs, double[]? Doubles = null);

    /// <summary>Adds a float initializer called <paramref name="name"/> (unique) and returns its name.</summary>
    public string Constant(string name, long[] dims, float[] values)
    {
        Reserve(name);
        initializers.Add(new Initializer(name, dims, values, null));
        return name;
    }

    /// <summary>Adds an int64 initializer called <paramref name="name"/> (unique) and returns its name.</summary>
    public string Int64Constant(string name, long[] dims, long[] values)
    {
        Reserve(name);
        initializers.Add(new Initializer(name, dims, null, values));
        return name;
    }

    /// <summary>Adds a float64 scalar initializer called <paramref name="name"/> (unique) and returns its name.</summary>
    public string DoubleScalar(string name, double value)
    {
        Reserve(name);
        initializers.Add(new Initializer(name, [], null, null, [value]));
        return name;
    }

    /// <summary>Adds a node of <paramref name="opType"/> whose one output (and node name) is <paramref name="output"/> (unique); returns it.</summary>
    public string Add(string opType, string output, string[] inputs, params Attribute[] attributes)
    {
        Reserve(output);
        nodes.Add(new Node(opType, output, inputs, output, attributes));
        return output;
    }

    /// <summary>Whether a tensor (node output or initializer) is already called <paramref name="name"/>.</summary>
    public bool Has(string name) => names.Contains(name);

    /// <summary>
    /// The ModelProto: this graph with float input <paramref name="input"/> of <paramref name="inputDims"/> and output
    /// <paramref name="output"/> of <paramref name="outputDims"/> (a null dimension is the symbolic batch size "N").
    /// </summary>
    public byte[] ToModel(string graphName, string producer, string producerVersion, string docString,
        string input, long?[] inputDims, string output, long?[] outputDims, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ProtoWriter();
        model.Int64(1, IrVersion);
        model.String(2, producer);
        model.String(3, producerVersion);
        model.String(6, docString);
        model.Message(7, graph =>
        {
            foreach (var node in nodes)
                graph.Message(1, w => WriteNode(w, node));
            graph.String(2, graphName);
            foreach (var initializer in initializers)
                graph.Message(5, w => WriteInitializer(w, initializer));
            graph.Message(11, w => WriteValueInfo(w, input, inputDims));
            graph.Message(12, w => WriteValueInfo(w, output, outputDims));
        });
        model.Message(8, opset =>
        {
            opset.String(1, "");
            opset.Int64(2, OpsetVersion);
        });
        foreach (var (key, value) in metadata)
            model.Message(14, entry =>
            {
                entry.String(1, key);
                entry.String(2, value);
            });
        return model.WrittenSpan.ToArray();
    }

    private void Reserve(string name)
    {
        if (!names.Add(name))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"ONNX graph: the tensor name '{name}' is used twice."));
    }

    private static void WriteNode(ProtoWriter w, Node node)
    {
        foreach (string input in node.Inputs)
            w.String(1, input);
        w.String(2, node.Output);
        w.String(3, node.Name);
        w.String(4, node.OpType);
        foreach (var attribute in node.Attributes)
            w.Message(5, a =>
            {
                a.String(1, attribute.Name);
                if (attribute.Float is { } f)
                {
                    a.Float(2, f);
                    a.Int64(20, AttributeFloat);
                }
                else if (attribute.Int is { } i)
                {
                    a.Int64(3, i);
                    a.Int64(20, AttributeInt);
                }
                else
                {
                    foreach (long value in attribute.Ints ?? [])
                        a.Int64(8, value);
                    a.Int64(20, AttributeInts);
                }
            });
    }

    private static void WriteInitializer(ProtoWriter w, Initializer initializer)
    {
        foreach (long dim in initializer.Dims)
            w.Int64(1, dim);
        w.Int64(2, initializer.Floats is not null ? FloatType : initializer.Doubles is not null ? DoubleType : Int64Type);
        w.String(8, initializer.Name);
        if (initializer.Floats is not null)
        {
            w.FloatBytes(9, initializer.Floats);
        }
        else if (initializer.Doubles is not null)
        {
            var bytes = new byte[initializer.Doubles.Length * sizeof(double)];
            for (int i = 0; i < initializer.Doubles.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)), initializer.Doubles[i]);
            w.Bytes(9, bytes);
        }
        else
        {
            var bytes = new byte[initializer.Longs!.Length * sizeof(long)];
            for (int i = 0; i < initializer.Longs.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), initializer.Longs[i]);
            w.Bytes(9, bytes);
        }
    }

    private static void WriteValueInfo(ProtoWriter w, string name, long?[] dims)
    {
        w.String(1, name);
        w.Message(2, type => type.Message(1, tensor =>
        {
            tensor.Int64(1, FloatType);
            tensor.Message(2, shape =>
            {
                foreach (long? dim in dims)
                    shape.Message(1, d =>
                    {
                        if (dim is { } value)
                            d.Int64(1, value);
                        else
                            d.String(2, "N");
                    });
            });
        }));
    }
}
