// Exports a network's float reference (or its float peer) in evaluation mode as an ONNX model (opset 13).
using System.Globalization;
using System.Reflection;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Networks;
using Attr = BnnDsl.Runtime.Onnx.OnnxGraph.Attribute;

namespace BnnDsl.Runtime.Onnx;

/// <summary>
/// Writes a network as an ONNX model (IR 7, opset 13) that ONNX Runtime and Netron load: the float reference of the
/// network in evaluation mode, computed the way the runtime layers compute it.
/// <list type="bullet">
/// <item>Layout: the graph input <c>input</c> is NCHW, <c>[N, C, H, W]</c> with a symbolic batch size <c>N</c>
/// (our tensors are NHWC: feed the same sample transposed); convolution weights are transposed from our OHWI to
/// ONNX's OIHW. A Flatten of a C × H × W tensor (H × W &gt; 1) transposes to NHWC first, so every flat vector, every
/// dense weight and the output <c>logits</c> <c>[N, features]</c> keep our order.</item>
/// <item>sign(x) with sign(0) = +1 is <c>Where(GreaterOrEqual(x, 0), 1, -1)</c>; binary weights are the initializer
/// sign(W). A binary convolution with <c>padding=one</c> pads its ±1 input with +1 (<c>Pad</c>), with
/// <c>padding=zero</c> the convolution pads with 0.</item>
/// <item>k-bit operands are their integer codes, as the bit-serial kernels use them: activations
/// <c>Round(Clip(x, 0, 1) · (2^k - 1))</c> (ONNX rounds halves to even, as we do), weights the levels
/// <c>2q - (2^k - 1)</c>; the integer dot products are then scaled by <c>1 / ((2^ka - 1)(2^kw - 1))</c>, the
/// layer's own float constant. A QActivation(k) outputs <c>codes · (1 / (2^k - 1))</c>, and a k-bit layer that
/// reads it takes its codes directly (re-quantizing gives the same codes).</item>
/// <item>BatchNorm is <c>Mul(x, scale) + shift</c> with <c>scale = gamma / sqrt(running_var + 1e-5)</c> and
/// <c>shift = beta - running_mean · scale</c> computed in float as the layer's evaluation mode does, so sign inputs
/// match bit for bit wherever the float convolutions before them do.</item>
/// <item>Residual blocks end in <c>Add</c>; the loss head is left out: the output is the logits.</item>
/// </list>
/// With <see cref="OnnxExportOptions.FloatPeer"/> every quantized layer is taken as a float one instead.
/// </summary>
public static class OnnxExport
{
    /// <summary>The name of the graph input (NCHW floats).</summary>
    public const string InputName = "input";

    /// <summary>The name of the graph output (the logits, or the last layer's values in NHWC flatten order).</summary>
    public const string OutputName = "logits";

    /// <summary>The ONNX opset the graph uses.</summary>
    public const int Opset = (int)OnnxGraph.OpsetVersion;

    /// <summary>
    /// The ONNX model of <paramref name="spec"/> with parameters looked up by name (<c>conv1.weight</c>,
    /// <c>bn1.running_var</c>, …, as <see cref="ModelPlanner.LayerNames"/> names the layers).
    /// </summary>
    /// <exception cref="ArgumentException">The spec is not valid, or a parameter is missing or has the wrong length.</exception>
    /// <exception cref="NotSupportedException">A padded pooling layer.</exception>
    public static byte[] ToBytes(NetworkSpec spec, Func<string, float[]> parameters, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        return new Exporter(Inferred(spec), parameters, options ?? new OnnxExportOptions()).Run();
    }

    /// <summary>The ONNX model of <paramref name="network"/> with its current parameter values.</summary>
    /// <exception cref="NotSupportedException">A padded pooling layer.</exception>
    public static byte[] ToBytes(Network network, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        return ToBytes(network.Definition, name => network.Parameter(name).Value, options);
    }

    /// <summary>Writes the ONNX model of <paramref name="spec"/> to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">The spec is not valid, or a parameter is missing or has the wrong length.</exception>
    /// <exception cref="NotSupportedException">A padded pooling layer.</exception>
    public static void Write(NetworkSpec spec, Func<string, float[]> parameters, Stream output, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(ToBytes(spec, parameters, options));
    }

    /// <summary>Writes the ONNX model of <paramref name="spec"/> to <paramref name="path"/> (a temporary file, then a rename).</summary>
    /// <exception cref="ArgumentException">The spec is not valid, or a parameter is missing or has the wrong length.</exception>
    /// <exception cref="NotSupportedException">A padded pooling layer.</exception>
    /// <exception cref="ModelFileException">The file cannot be written.</exception>
    public static void Write(NetworkSpec spec, Func<string, float[]> parameters, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] model = ToBytes(spec, parameters, options);
        AtomicFile.WriteModel(path, stream => stream.Write(model));
    }

    /// <summary>Writes the ONNX model of <paramref name="network"/> to <paramref name="path"/> (a temporary file, then a rename).</summary>
    /// <exception cref="NotSupportedException">A padded pooling layer.</exception>
    /// <exception cref="ModelFileException">The file cannot be written.</exception>
    public static void Write(Network network, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] model = ToBytes(network, options);
        AtomicFile.WriteModel(path, stream => stream.Write(model));
    }

    /// <summary>
    /// Exports the training checkpoint at <paramref name="checkpointPath"/> (its <c>network</c> metadata and parameter
    /// tensors) to <paramref name="outputPath"/>; returns the network it exported.
    /// </summary>
    /// <exception cref="ModelFileException">
    /// The checkpoint is missing, damaged, not a checkpoint, lacks the network or a parameter, holds a network the
    /// export does not support, or the output cannot be written.
    /// </exception>
    public static NetworkSpec WriteCheckpoint(string checkpointPath, string outputPath, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        var file = SafeTensorsFile.Read(checkpointPath);
        if (!file.Metadata.TryGetValue(Checkpoint.FormatKey, out var format) || format != Checkpoint.FormatName)
            throw new ModelFileException(checkpointPath, "it is not a BnnDsl training checkpoint", "pass a checkpoint written by BnnDsl training");
        if (!file.Metadata.TryGetValue("network", out var json))
            throw new ModelFileException(checkpointPath, "its metadata has no 'network' entry (the network spec)",
                "export a checkpoint written by the Trainer or Network.Save, or use OnnxExport.Write(spec, parameters, path)");
        var spec = NetworkSpecJson.Read(json, checkpointPath);
        byte[] model;
        try
        {
            model = ToBytes(spec, name => file.TryGet(name, out var tensor) && tensor.DType == SafeTensorDType.F32
                ? tensor.As<float>().ToArray()
                : throw new ModelFileException(checkpointPath, $"it has no F32 tensor '{name}'", "export a checkpoint of this network written by BnnDsl training"),
                options);
        }
        catch (NotSupportedException ex)
        {
            throw new ModelFileException(checkpointPath, ex.Message, "change the network's bit widths or pooling", ex);
        }
        catch (ArgumentException ex)
        {
            throw new ModelFileException(checkpointPath, ex.Message, "export a checkpoint of this network written by BnnDsl training", ex);
        }
        AtomicFile.WriteModel(outputPath, stream => stream.Write(model));
        return spec;
    }

    private static NetworkSpec Inferred(NetworkSpec spec)
    {
        var inferred = ShapeInference.Infer(spec with
        {
            Layers = new EquatableArray<LayerSpec>([.. spec.Layers.Select(l => l with { InputShape = default, OutputShape = default })]),
        });
        if (!inferred.Succeeded)
            throw new ArgumentException(
                $"Network '{spec.Name}' is not valid ({inferred.Diagnostics[0].Id}: {inferred.Diagnostics[0].Message}); export a network the DSL accepts.", nameof(spec));
        return inferred.Network;
    }

    /// <summary>Builds the graph of one network, layer by layer.</summary>
    private sealed class Exporter(NetworkSpec spec, Func<string, float[]> parameters, OnnxExportOptions options)
    {
        private readonly OnnxGraph graph = new();
        private readonly IReadOnlyList<string> names = LayerNames.Of(spec);

        /// <summary>The integer codes of a tensor at a width (1: its sign), where the graph already has them.</summary>
        private readonly Dictionary<(string Tensor, int Bits), string> codes = [];

        private bool FloatPeer => options.FloatPeer;

        public byte[] Run()
        {
            string x = InputName;
            var blocks = new Stack<(string Input, string? Main)>();
            for (int i = 0; i < spec.Layers.Count; i++)
            {
                var layer = spec.Layers[i];
                string name = names[i];
                switch (layer.Kind)
                {
                    case LayerKind.Convolution:
                        x = Conv(x, layer, name, 32, 32, hasBias: true);
                        break;
                    case LayerKind.QConvolution:
                        x = Conv(x, layer, name, layer.WeightBits, layer.ActivationBits, hasBias: false);
                        break;
                    case LayerKind.FullyConnected:
                        x = Dense(x, layer, name, 32, 32, hasBias: true);
                        break;
                    case LayerKind.QFullyConnected:
                        x = Dense(x, layer, name, layer.WeightBits, layer.ActivationBits, hasBias: false);
                        break;
                    case LayerKind.BatchNorm:
                        x = BatchNorm(x, layer, name);
                        break;
                    case LayerKind.MaxPool or LayerKind.AvgPool:
                        if (layer.Pad != 0)
                            throw new NotSupportedException(Invariant($"Layer '{name}' ({layer.Kind}) of network '{spec.Name}' has padding {layer.Pad}, which the export does not write; use unpadded pooling."));
                        x = graph.Add(layer.Kind == LayerKind.MaxPool ? "MaxPool" : "AveragePool", name, [x],
                            [new Attr("kernel_shape", Ints: [layer.Kernel, layer.Kernel]), new Attr("strides", Ints: [layer.Stride, layer.Stride])]);
                        break;
                    case LayerKind.GlobalAvgPool:
                        x = graph.Add("Flatten", name, [graph.Add("GlobalAveragePool", $"{name}.nchw", [x])], new Attr("axis", Int: 1));
                        break;
                    case LayerKind.Flatten:
                        x = Flatten(x, layer.InputShape, name);
                        break;
                    case LayerKind.ReLU:
                        x = graph.Add("Relu", name, [x]);
                        break;
                    case LayerKind.QActivation:
                        x = Activation(x, layer, name);
                        break;
                    case LayerKind.Residual:
                        blocks.Push((x, null));
                        break;
                    case LayerKind.Shortcut:
                        var open = blocks.Pop();
                        blocks.Push((open.Input, x));
                        x = open.Input;
                        break;
                    case LayerKind.EndResidual:
                        var (input, main) = blocks.Pop();
                        x = main is null ? graph.Add("Add", name, [x, input]) : graph.Add("Add", name, [main, x]);
                        break;
                }
            }
            var output = spec.Layers.Where(l => l.Kind != LayerKind.SoftmaxCrossEntropy).Select(l => l.OutputShape).LastOrDefault(spec.Input);
            if (output.Rank == 3)
                x = Flatten(x, output, "output");
            graph.Add("Identity", OutputName, [x]);

            var inputShape = spec.Input;
            string producerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";
            return graph.ToModel(spec.Name, "BnnDsl", producerVersion,
                FloatPeer
                    ? $"Float peer of BnnDsl network '{spec.Name}': the same architecture with every quantized layer as a float32 layer. Input NCHW, logits in BnnDsl's (NHWC) order."
                    : $"Float reference of BnnDsl network '{spec.Name}' in evaluation mode (sign(0) = +1, k-bit DoReFa quantizers). Input NCHW, logits in BnnDsl's (NHWC) order.",
                InputName, inputShape.Rank == 3 ? [null, inputShape.Channels, inputShape.Height, inputShape.Width] : [null, inputShape.Channels],
                OutputName, [null, output.Elements],
                new Dictionary<string, string>
                {
                    ["bnndsl.network"] = NetworkSpecJson.Write(spec),
                    ["bnndsl.float_peer"] = FloatPeer ? "true" : "false",
                });
        }

        private float[] Param(string parameter, long length)
        {
            float[] values;
            try
            {
                values = parameters(parameter);
            }
            catch (KeyNotFoundException ex)
            {
                throw new ArgumentException($"Network '{spec.Name}': no parameter '{parameter}' ({ex.Message}); pass every parameter of the network.", nameof(parameters), ex);
            }
            if (values is null || values.Length != length)
                throw new ArgumentException(
                    Invariant($"Network '{spec.Name}': parameter '{parameter}' holds {values?.Length ?? 0} floats, expected {length}; pass the parameters of this network."),
                    nameof(parameters));
            return values;
        }

        /// <summary>A float or quantized convolution: quantized operands, integer dot products, then the layer's scale.</summary>
        private string Conv(string x, LayerSpec layer, string name, int weightBits, int activationBits, bool hasBias)
        {
            int k = layer.Kernel, c = layer.InputShape.Channels, o = layer.Units, p = layer.Pad;
            var (values, weightLevels) = WeightOperand(Param($"{name}.weight", (long)o * k * k * c), weightBits, name, layer);
            float[]? bias = hasBias ? Param($"{name}.bias", o) : null;
            var (operand, activationLevels) = ActivationOperand(x, activationBits, name, layer);
            var oihw = new float[values.Length];
            for (int f = 0; f < o; f++)
                for (int kh = 0; kh < k; kh++)
                    for (int kw = 0; kw < k; kw++)
                        for (int ch = 0; ch < c; ch++)
                            oihw[((f * c + ch) * k + kh) * k + kw] = values[((f * k + kh) * k + kw) * c + ch];
            bool padsWithOne = !FloatPeer && activationBits == 1 && layer.Kind == LayerKind.QConvolution && layer.Padding == Padding.One && p > 0;
            if (padsWithOne)
                operand = graph.Add("Pad", $"{name}.pad", [operand, graph.Int64Constant($"{name}.pads", [8], [0, 0, p, p, 0, 0, p, p]), One()]);
            int convPad = padsWithOne ? 0 : p;
            string[] inputs = bias is null
                ? [operand, graph.Constant($"{name}.weight", [o, c, k, k], oihw)]
                : [operand, graph.Constant($"{name}.weight", [o, c, k, k], oihw), graph.Constant($"{name}.bias", [o], bias)];
            int levels = activationLevels * weightLevels;
            string y = graph.Add("Conv", levels == 1 ? name : $"{name}.dot", inputs,
                new Attr("kernel_shape", Ints: [k, k]), new Attr("strides", Ints: [layer.Stride, layer.Stride]),
                new Attr("pads", Ints: [convPad, convPad, convPad, convPad]));
            return levels == 1 ? y : graph.Add("Mul", name, [y, graph.Constant($"{name}.scale", [], [1f / levels])]);
        }

        /// <summary>A float or quantized fully connected layer: <c>Gemm(x, Wᵀ [, bias])</c>, then the layer's scale.</summary>
        private string Dense(string x, LayerSpec layer, string name, int weightBits, int activationBits, bool hasBias)
        {
            long inputs = layer.InputShape.Elements;
            var (values, weightLevels) = WeightOperand(Param($"{name}.weight", layer.Units * inputs), weightBits, name, layer);
            float[]? bias = hasBias ? Param($"{name}.bias", layer.Units) : null;
            var (operand, activationLevels) = ActivationOperand(x, activationBits, name, layer);
            string[] operands = bias is null
                ? [operand, graph.Constant($"{name}.weight", [layer.Units, inputs], values)]
                : [operand, graph.Constant($"{name}.weight", [layer.Units, inputs], values), graph.Constant($"{name}.bias", [layer.Units], bias)];
            int levels = activationLevels * weightLevels;
            string y = graph.Add("Gemm", levels == 1 ? name : $"{name}.dot", operands, new Attr("transB", Int: 1));
            return levels == 1 ? y : graph.Add("Mul", name, [y, graph.Constant($"{name}.scale", [], [1f / levels])]);
        }

        private string BatchNorm(string x, LayerSpec layer, string name)
        {
            int c = layer.InputShape.Channels;
            float[] gamma = Param($"{name}.gamma", c), beta = Param($"{name}.beta", c);
            float[] mean = Param($"{name}.running_mean", c), variance = Param($"{name}.running_var", c);
            var scale = new float[c];
            var shift = new float[c];
            for (int ch = 0; ch < c; ch++)
            {
                scale[ch] = gamma[ch] / MathF.Sqrt(variance[ch] + ModelConverter.BatchNormEpsilon);
                shift[ch] = beta[ch] - mean[ch] * scale[ch];
            }
            long[] dims = layer.InputShape.Rank == 3 ? [c, 1, 1] : [c];
            string scaled = graph.Add("Mul", $"{name}.scaled", [x, graph.Constant($"{name}.scale", dims, scale)]);
            return graph.Add("Add", name, [scaled, graph.Constant($"{name}.shift", dims, shift)]);
        }

        private string Activation(string x, LayerSpec layer, string name)
        {
            int bits = layer.ActivationBits;
            if (FloatPeer || bits == 32)
                return x;
            if (bits == 1)
                return Sign(x, name);
            if (bits > BitPlanes.MaxBits)
                return Dequantized(x, bits, name);
            CheckBits(bits, name, layer, "activations");
            int levels = (1 << bits) - 1;
            string quantized = Codes(x, bits, $"{name}.codes");
            string y = graph.Add("Mul", name, [quantized, Scalar(Invariant($"inverse_levels{levels}"), 1f / levels)]);
            codes[(y, bits)] = quantized;
            return y;
        }

        /// <summary>The tensor a layer multiplies for its input and the levels of its codes (1 for signs and floats).</summary>
        private (string Tensor, int Levels) ActivationOperand(string x, int bits, string name, LayerSpec layer)
        {
            if (FloatPeer || bits == 32)
                return (x, 1);
            if (bits == 1)
                return (Sign(x, $"{name}.sign"), 1);
            if (bits > BitPlanes.MaxBits)
                return (Dequantized(x, bits, $"{name}.dequantized"), 1);
            CheckBits(bits, name, layer, "activations");
            return (Codes(x, bits, $"{name}.codes"), (1 << bits) - 1);
        }

        /// <summary>The weights a layer multiplies (signs, integer levels or floats) and their levels (1 for signs and floats).</summary>
        private (float[] Values, int Levels) WeightOperand(float[] latent, int bits, string name, LayerSpec layer)
        {
            if (FloatPeer || bits == 32)
                return (latent, 1);
            var values = new float[latent.Length];
            if (bits == 1)
            {
                for (int i = 0; i < values.Length; i++)
                    values[i] = latent[i] >= 0f ? 1f : -1f;
                return (values, 1);
            }
            if (bits > BitPlanes.MaxBits)
            {
                CheckBits(bits, name, layer, "weights");
                for (int i = 0; i < values.Length; i++)
                    values[i] = UniformQuantizer.WeightValue(latent[i], bits);
                return (values, 1);
            }
            CheckBits(bits, name, layer, "weights");
            for (int i = 0; i < values.Length; i++)
                values[i] = BitPlanes.WeightLevel(BitPlanes.QuantizeWeight(latent[i], bits), bits);
            return (values, (1 << bits) - 1);
        }

        private void CheckBits(int bits, string name, LayerSpec layer, string operand)
        {
            if (bits is < UniformQuantizer.MinBits or > UniformQuantizer.MaxBits)
                throw new NotSupportedException(
                    Invariant($"Layer '{name}' ({layer.Kind}) of network '{spec.Name}' has {bits}-bit {operand}, which the export does not write; use 1..32 bits."));
        }

        /// <summary>sign(x) with sign(0) = +1: <c>Where(x &gt;= 0, 1, -1)</c>, made once per tensor.</summary>
        private string Sign(string x, string name)
        {
            if (codes.TryGetValue((x, 1), out string? sign))
                return sign;
            string nonNegative = graph.Add("GreaterOrEqual", $"{name}.nonnegative", [x, Scalar("zero", 0f)]);
            sign = graph.Add("Where", name, [nonNegative, One(), Scalar("minus_one", -1f)]);
            codes[(x, 1)] = sign;
            codes[(sign, 1)] = sign;
            return sign;
        }

        /// <summary>The k-bit codes <c>Round(Clip(x, 0, 1) · (2^k - 1))</c>, made once per tensor and width.</summary>
        private string Codes(string x, int bits, string name)
        {
            if (codes.TryGetValue((x, bits), out string? existing))
                return existing;
            int levels = (1 << bits) - 1;
            string clipped = graph.Add("Clip", $"{name}.clipped", [x, Scalar("zero", 0f), One()]);
            string scaled = graph.Add("Mul", $"{name}.scaled", [clipped, Scalar(Invariant($"levels{levels}"), levels)]);
            string rounded = graph.Add("Round", name, [scaled]);
            codes[(x, bits)] = rounded;
            return rounded;
        }

        /// <summary>
        /// The 9..31-bit quantize-dequantize value <c>Round(Clip(x, 0, 1) · L) / L</c> (L = 2^k - 1) computed in float64
        /// and cast back to float32, as the runtime's quantize-dequantize layers compute it: the product of a float32
        /// and L is exact in float64 up to 29 bits, so the codes are the runtime's exact codes (at 30 and 31 bits a
        /// product can round onto a tie, moving a code by one level: 2^-30 of the range, below float32's resolution).
        /// Made once per tensor and width.
        /// </summary>
        private string Dequantized(string x, int bits, string name)
        {
            if (codes.TryGetValue((x, bits), out string? existing))
                return existing;
            double levels = UniformQuantizer.Levels(bits);
            string wide = graph.Add("Cast", $"{name}.float64", [x], new Attr("to", Int: 11));
            string zero = Scalar64("zero_float64", 0.0), one = Scalar64("one_float64", 1.0);
            string scale = Scalar64(Invariant($"levels{bits}_float64"), levels);
            string clipped = graph.Add("Clip", $"{name}.clipped", [wide, zero, one]);
            string rounded = graph.Add("Round", $"{name}.codes", [graph.Add("Mul", $"{name}.scaled", [clipped, scale])]);
            string value = graph.Add("Div", $"{name}.value64", [rounded, scale]);
            string y = graph.Add("Cast", name, [value], new Attr("to", Int: 1));
            codes[(x, bits)] = y;
            return y;
        }

        /// <summary>Transposes a C × H × W tensor to NHWC (when H × W &gt; 1) and flattens it, so its order is ours.</summary>
        private string Flatten(string x, TensorShape shape, string name)
        {
            if (shape.Rank != 3)
                return x;
            if (shape.Height * shape.Width > 1)
                x = graph.Add("Transpose", $"{name}.nhwc", [x], new Attr("perm", Ints: [0, 2, 3, 1]));
            return graph.Add("Flatten", name, [x], new Attr("axis", Int: 1));
        }

        private string One() => Scalar("one", 1f);

        private string Scalar(string name, float value) => graph.Has(name) ? name : graph.Constant(name, [], [value]);

        private string Scalar64(string name, double value) => graph.Has(name) ? name : graph.DoubleScalar(name, value);

        private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
    }
}
