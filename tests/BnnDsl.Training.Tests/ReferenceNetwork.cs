// An independent, naive, double-precision interpreter of a NetworkSpec: forward in training mode and the full
// backward pass written out from the formulas (STE with clip 1 for signs, DoReFa for k bits, float for 32 bits), used as the
// oracle for generated code.
namespace BnnDsl.Training.Tests;

/// <summary>
/// Runs a network layer by layer with plain loops in double precision, reading the weights of the real network by
/// parameter name. Binary layers compute the float convolution of sign(x) and sign(w) (padding +1 for
/// <see cref="Padding.One"/>); signs pass gradients where |x| &lt;= 1 (inputs and latent weights). k-bit layers
/// (2..8 bits) compute with <c>Qa(x) = round(clip(x, 0, 1) (2^k - 1)) / (2^k - 1)</c> and
/// <c>Qw(w) = 2 round((clip(w, -1, 1) + 1) / 2 (2^k - 1)) / (2^k - 1) - 1</c>, zero padding; activations pass
/// gradients where 0 &lt;= x &lt;= 1, latent weights where |w| &lt;= 1. Any other widths of a QConvolution or
/// QFullyConnected (9..31 bits, mixed widths such as 1/32 or 4/32, and 32/32) compute the float convolution or product
/// of the operands: sign for 1 bit (padding as above), Qa / Qw for 2..31 bits (zero padding), the value itself for 32
/// bits (zero padding, no gate). QActivation(k): sign, Qa for 2..31, the identity for 32.
/// </summary>
internal sealed class ReferenceNetwork
{
    private readonly NetworkSpec spec;
    private readonly Func<string, float[]> weights;
    private readonly int batch;
    private readonly bool evaluation;

    /// <summary><paramref name="evaluation"/>: BatchNorm uses the running statistics (forward only, <see cref="Forward"/>).</summary>
    public ReferenceNetwork(NetworkSpec spec, int batch, Func<string, float[]> weights, bool evaluation = false)
    {
        this.spec = spec;
        this.batch = batch;
        this.weights = weights;
        this.evaluation = evaluation;
    }

    /// <summary>Pre-activation values of every sign layer in the last forward pass (to check that none sits on a boundary).</summary>
    public List<double> SignInputs { get; } = [];

    /// <summary>Gaps between the largest and second-largest value of every max-pool window in the last forward pass.</summary>
    public List<double> PoolMargins { get; } = [];

    /// <summary>
    /// Distances of every k-bit activation (before quantization) to its nearest decision point (a rounding
    /// threshold or a clip bound it does not sit on exactly), in the last forward pass.
    /// </summary>
    public List<double> ActivationMargins { get; } = [];

    /// <summary>The same distances for the latent weights of the k-bit layers (rounding thresholds and ±1).</summary>
    public List<double> WeightMargins { get; } = [];

    public Dictionary<string, double[]> Gradients { get; } = [];

    public double Loss { get; private set; }

    /// <summary>The network's output (the loss head's input) in the last forward pass.</summary>
    public double[] Logits { get; private set; } = [];

    public static IReadOnlyList<string> LayerNames(NetworkSpec spec)
    {
        var counters = new Dictionary<string, int>();
        return [.. spec.Layers.Select(layer =>
        {
            string stem = layer.Kind switch
            {
                LayerKind.Convolution => "conv", LayerKind.QConvolution => "qconv", LayerKind.FullyConnected => "fc",
                LayerKind.QFullyConnected => "qfc", LayerKind.QActivation => "qact", LayerKind.BatchNorm => "bn",
                LayerKind.MaxPool => "maxpool", LayerKind.AvgPool => "avgpool", LayerKind.GlobalAvgPool => "gap",
                LayerKind.Flatten => "flatten", LayerKind.Residual => "residual", LayerKind.Shortcut => "shortcut",
                LayerKind.EndResidual => "add", _ => "loss",
            };
            counters[stem] = counters.GetValueOrDefault(stem) + 1;
            return stem + counters[stem];
        })];
    }

    /// <summary>
    /// Forward and backward over the flat layer list. A residual block's input is remembered at Residual, Shortcut
    /// hands it to the shortcut path, EndResidual adds both paths. Backward sums, per tensor, the gradients of all
    /// its readers (a block input has two), keyed by the tensor's identity.
    /// </summary>
    public void ForwardBackward(float[] input, int[] labels)
    {
        if (evaluation)
            throw new InvalidOperationException("An evaluation reference runs Forward only.");
        var names = LayerNames(spec);
        var (inputs, reads, outputs) = RunForward(input);
        double[] x = Logits;
        int computed = spec.Layers.Count - 1;
        int classes = spec.Layers[^1].InputShape.Channels;
        var dlogits = new double[x.Length];
        Loss = 0;
        for (int b = 0; b < batch; b++)
        {
            double max = Enumerable.Range(0, classes).Max(c => x[b * classes + c]);
            double sum = Enumerable.Range(0, classes).Sum(c => Math.Exp(x[b * classes + c] - max));
            Loss += (Math.Log(sum) + max - x[b * classes + labels[b]]) / batch;
            for (int c = 0; c < classes; c++)
                dlogits[b * classes + c] = (Math.Exp(x[b * classes + c] - max) / sum - (c == labels[b] ? 1 : 0)) / batch;
        }

        var gradients = new Dictionary<double[], double[]>(ReferenceEqualityComparer.Instance) { [x] = dlogits };
        for (int i = computed - 1; i >= 0; i--)
        {
            var layer = spec.Layers[i];
            if (layer.Kind is LayerKind.Residual or LayerKind.Shortcut or LayerKind.Flatten
                || !gradients.TryGetValue(outputs[i], out var dy))
                continue;
            if (layer.Kind == LayerKind.EndResidual)
            {
                foreach (var read in reads[i])
                    Accumulate(gradients, read, dy);
                continue;
            }
            Accumulate(gradients, inputs[i], Backward(layer, names[i], inputs[i], dy));
        }
    }

    /// <summary>The forward pass only: <see cref="Logits"/> and the margins (the loss head is not applied).</summary>
    public void Forward(float[] input) => RunForward(input);

    private (double[][] Inputs, double[][][] Reads, double[][] Outputs) RunForward(float[] input)
    {
        var names = LayerNames(spec);
        SignInputs.Clear();
        PoolMargins.Clear();
        ActivationMargins.Clear();
        WeightMargins.Clear();
        Gradients.Clear();
        double[] x = [.. input.Select(v => (double)v)];
        int computed = spec.Layers[^1].Kind == LayerKind.SoftmaxCrossEntropy ? spec.Layers.Count - 1 : spec.Layers.Count;
        var inputs = new double[computed][];
        var reads = new double[computed][][];
        var outputs = new double[computed][];
        var blocks = new Stack<(double[] Input, double[]? Main)>();
        for (int i = 0; i < computed; i++)
        {
            var layer = spec.Layers[i];
            inputs[i] = x;
            reads[i] = [x];
            switch (layer.Kind)
            {
                case LayerKind.Residual:
                    blocks.Push((x, null));
                    break;
                case LayerKind.Shortcut:
                    var (blockInput, _) = blocks.Pop();
                    blocks.Push((blockInput, x));
                    x = blockInput;
                    break;
                case LayerKind.EndResidual:
                    var (start, main) = blocks.Pop();
                    reads[i] = main is null ? [x, start] : [main, x];
                    x = [.. reads[i][0].Zip(reads[i][1], (a, b) => a + b)];
                    break;
                default:
                    x = Forward(layer, names[i], x);
                    break;
            }
            outputs[i] = x;
        }
        Logits = x;
        return (inputs, reads, outputs);
    }

    private static void Accumulate(Dictionary<double[], double[]> gradients, double[] tensor, double[] gradient)
    {
        if (gradients.TryGetValue(tensor, out var sum))
            gradients[tensor] = [.. sum.Zip(gradient, (a, b) => a + b)];
        else
            gradients[tensor] = gradient;
    }

    private double[] W(string name) => [.. weights(name).Select(v => (double)v)];

    private static double Sign(double v) => v >= 0 ? 1 : -1;

    private static bool LowBit(int bits) => bits is >= 2 and <= 8;

    /// <summary>Both widths bit-serial (2..8): the layer's products are integers in the real kernel, so here too.</summary>
    private static bool BitSerial(LayerSpec layer) => LowBit(layer.WeightBits) && LowBit(layer.ActivationBits);

    private static double Qa(double x, int bits)
    {
        long levels = (1L << bits) - 1;
        return Math.Round(Math.Clamp(x, 0, 1) * levels, MidpointRounding.ToEven) / levels;
    }

    private static double Qw(double w, int bits)
    {
        long levels = (1L << bits) - 1;
        return 2 * Math.Round((Math.Clamp(w, -1, 1) + 1) / 2 * levels, MidpointRounding.ToEven) / levels - 1;
    }

    /// <summary>The value a <paramref name="bits"/>-bit activation operand multiplies with (sign, Qa or itself); records the margins.</summary>
    private double[] ActivationOperand(double[] x, int bits)
    {
        if (bits == 1)
        {
            // An exact ±1 (the output of a sign) is the same on both sides; anything else near 0 or ±1 is a marginal draw.
            SignInputs.AddRange(x.Where(v => Math.Abs(v) != 1));
            return [.. x.Select(Sign)];
        }
        if (bits == 32)
            return [.. x]; // a new tensor: the backward pass keys gradients by tensor identity
        if (LowBit(bits))
        {
            double levels = (1 << bits) - 1;
            return [.. ActivationCodes(x, bits).Select(code => code / levels)];
        }
        // 9..31 bits: a rounding flip moves a value by one level (at most 2^-9), which the tests' tolerances absorb
        // where it happens at all (the runtime's codes are exact); only the clip bounds, where the STE gate switches, matter.
        ActivationMargins.AddRange(x.Select(v => Margin(v, [0, 1])));
        return [.. x.Select(v => Qa(v, bits))];
    }

    /// <summary>The activation operand again in the backward pass, without recording margins.</summary>
    private static double[] Operand(double[] x, int bits) => bits switch
    {
        1 => [.. x.Select(Sign)],
        32 => x,
        _ => [.. x.Select(v => Qa(v, bits))],
    };

    /// <summary>
    /// The value a <paramref name="bits"/>-bit weight operand multiplies with (sign, Qw or itself); with
    /// <paramref name="record"/>, records the margins of 2..8-bit weights (the runtime rounds those in float32; its
    /// 9..31-bit codes are exact, as here).
    /// </summary>
    private double[] WeightOperand(double[] w, int bits, bool record = false)
    {
        if (record && LowBit(bits))
        {
            double levels = (1 << bits) - 1;
            return [.. WeightLevels(w, bits).Select(level => level / levels)];
        }
        return bits switch
        {
            1 => [.. w.Select(Sign)],
            32 => w,
            _ => [.. w.Select(v => Qw(v, bits))],
        };
    }

    /// <summary>The STE of a <paramref name="bits"/>-bit activation: |x| &lt;= 1 for sign, 0 &lt;= x &lt;= 1 for k bits, none for 32.</summary>
    private static double[] ActivationGate(double[] x, double[] dx, int bits) => bits switch
    {
        1 => [.. dx.Select((g, i) => Math.Abs(x[i]) <= 1 ? g : 0)],
        32 => dx,
        _ => [.. dx.Select((g, i) => x[i] >= 0 && x[i] <= 1 ? g : 0)],
    };

    /// <summary>The STE of a quantized (latent) weight: |w| &lt;= 1; none for 32-bit weights.</summary>
    private static double[] WeightGate(double[] latent, double[] dw, int bits)
        => bits == 32 ? dw : [.. dw.Select((g, i) => Math.Abs(latent[i]) <= 1 ? g : 0)];

    /// <summary>The pad value of a convolution's operand: +1 for 1-bit activations with <see cref="Padding.One"/>, else 0.</summary>
    private static double PadValue(LayerSpec layer) => layer.ActivationBits == 1 && layer.Padding == Padding.One ? 1 : 0;

    /// <summary>Distance of <paramref name="v"/> to the nearest of <paramref name="points"/> it is not equal to.</summary>
    private static double Margin(double v, IEnumerable<double> points) => points.Where(p => p != v).Min(p => Math.Abs(v - p));

    /// <summary>The activation codes <c>round(clip(x, 0, 1) (2^k - 1))</c> as doubles; records the margins.</summary>
    private double[] ActivationCodes(double[] x, int bits)
    {
        int levels = (1 << bits) - 1;
        double[] points = [0, 1, .. Enumerable.Range(0, levels).Select(j => (j + 0.5) / levels)];
        ActivationMargins.AddRange(x.Select(v => Margin(v, points)));
        return [.. x.Select(v => Math.Round(Qa(v, bits) * levels))];
    }

    /// <summary>The odd integer weight levels <c>Qw(w) (2^k - 1)</c> as doubles; records the margins.</summary>
    private double[] WeightLevels(double[] w, int bits)
    {
        int levels = (1 << bits) - 1;
        double[] points = [-1, 1, .. Enumerable.Range(0, levels).Select(j => 2 * (j + 0.5) / levels - 1)];
        WeightMargins.AddRange(w.Select(v => Margin(v, points)));
        return [.. w.Select(v => Math.Round(Qw(v, bits) * levels))];
    }

    /// <summary>
    /// A k-bit layer's output from its integer products (exact in double, so equal sums stay equal, as in the
    /// bit-serial kernel), scaled once by <c>1 / ((2^ka - 1)(2^kw - 1))</c>.
    /// </summary>
    private static double[] Dequantize(double[] products, LayerSpec layer)
    {
        double scale = ((1 << layer.ActivationBits) - 1) * ((1 << layer.WeightBits) - 1);
        return [.. products.Select(v => v / scale)];
    }

    private double[] Forward(LayerSpec layer, string name, double[] x)
    {
        var s = layer.InputShape;
        switch (layer.Kind)
        {
            case LayerKind.Convolution:
                return Conv(x, s, W(name + ".weight"), W(name + ".bias"), layer, padValue: 0);
            case LayerKind.QConvolution when BitSerial(layer):
                return Dequantize(Conv(ActivationCodes(x, layer.ActivationBits), s, WeightLevels(W(name + ".weight"), layer.WeightBits), null, layer, padValue: 0), layer);
            case LayerKind.QConvolution:
                return Conv(ActivationOperand(x, layer.ActivationBits), s, WeightOperand(W(name + ".weight"), layer.WeightBits, record: true), null, layer, PadValue(layer));
            case LayerKind.FullyConnected:
                return Dense(x, s.Channels * s.Height * s.Width, layer.Units, W(name + ".weight"), W(name + ".bias"));
            case LayerKind.QFullyConnected when BitSerial(layer):
                return Dequantize(Dense(ActivationCodes(x, layer.ActivationBits), s.Channels * s.Height * s.Width, layer.Units,
                    WeightLevels(W(name + ".weight"), layer.WeightBits), null), layer);
            case LayerKind.QFullyConnected:
                return Dense(ActivationOperand(x, layer.ActivationBits), s.Channels * s.Height * s.Width, layer.Units,
                    WeightOperand(W(name + ".weight"), layer.WeightBits, record: true), null);
            case LayerKind.QActivation:
                return ActivationOperand(x, layer.ActivationBits);
            case LayerKind.Flatten:
                return x;
            case LayerKind.MaxPool:
                return MaxPool(x, s, layer.Kernel, layer.Stride);
            case LayerKind.AvgPool:
                return AvgPool(x, s, layer, dy: null);
            case LayerKind.GlobalAvgPool:
                return AvgPool(x, s, layer with { Kernel = s.Height, Stride = 1 }, dy: null);
            case LayerKind.BatchNorm:
                return evaluation
                    ? BatchNorm(x, s.Channels, W(name + ".gamma"), W(name + ".beta"), W(name + ".running_mean"), W(name + ".running_var"))
                    : BatchNorm(x, s.Channels, W(name + ".gamma"), W(name + ".beta"));
            default:
                throw new NotSupportedException(layer.Kind.ToString());
        }
    }

    private double[] Backward(LayerSpec layer, string name, double[] x, double[] dy)
    {
        var s = layer.InputShape;
        switch (layer.Kind)
        {
            case LayerKind.Convolution:
            {
                var (dx, dw, db) = ConvBackward(x, s, W(name + ".weight"), dy, layer, padValue: 0);
                Gradients[name + ".weight"] = dw;
                Gradients[name + ".bias"] = db;
                return dx;
            }
            case LayerKind.QConvolution:
            {
                double[] latent = W(name + ".weight");
                var (dx, dw, _) = ConvBackward(Operand(x, layer.ActivationBits), s, WeightOperand(latent, layer.WeightBits), dy, layer, PadValue(layer));
                Gradients[name + ".weight"] = WeightGate(latent, dw, layer.WeightBits);
                return ActivationGate(x, dx, layer.ActivationBits);
            }
            case LayerKind.FullyConnected:
            {
                int inputs = s.Channels * s.Height * s.Width;
                var (dx, dw, db) = DenseBackward(x, inputs, layer.Units, W(name + ".weight"), dy);
                Gradients[name + ".weight"] = dw;
                Gradients[name + ".bias"] = db;
                return dx;
            }
            case LayerKind.QFullyConnected:
            {
                double[] latent = W(name + ".weight");
                var (dx, dw, _) = DenseBackward(Operand(x, layer.ActivationBits), s.Channels * s.Height * s.Width, layer.Units,
                    WeightOperand(latent, layer.WeightBits), dy);
                Gradients[name + ".weight"] = WeightGate(latent, dw, layer.WeightBits);
                return ActivationGate(x, dx, layer.ActivationBits);
            }
            case LayerKind.QActivation:
                return ActivationGate(x, dy, layer.ActivationBits);
            case LayerKind.Flatten:
                return dy;
            case LayerKind.MaxPool:
                return MaxPoolBackward(x, s, layer.Kernel, layer.Stride, dy);
            case LayerKind.AvgPool:
                return AvgPool(x, s, layer, dy);
            case LayerKind.GlobalAvgPool:
                return AvgPool(x, s, layer with { Kernel = s.Height, Stride = 1 }, dy);
            case LayerKind.BatchNorm:
            {
                var (dx, dgamma, dbeta) = BatchNormBackward(x, s.Channels, W(name + ".gamma"), dy);
                Gradients[name + ".gamma"] = dgamma;
                Gradients[name + ".beta"] = dbeta;
                return dx;
            }
            default:
                throw new NotSupportedException(layer.Kind.ToString());
        }
    }

    private double Read(double[] x, TensorShape s, int b, int y, int xx, int c, double padValue) =>
        y < 0 || y >= s.Height || xx < 0 || xx >= s.Width ? padValue : x[((b * s.Height + y) * s.Width + xx) * s.Channels + c];

    private double[] Conv(double[] x, TensorShape s, double[] w, double[]? bias, LayerSpec layer, double padValue)
    {
        var o = layer.OutputShape;
        int k = layer.Kernel;
        var y = new double[batch * o.Height * o.Width * o.Channels];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < o.Height; oy++)
                for (int ox = 0; ox < o.Width; ox++)
                    for (int f = 0; f < o.Channels; f++)
                    {
                        double sum = bias?[f] ?? 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                for (int c = 0; c < s.Channels; c++)
                                    sum += Read(x, s, b, oy * layer.Stride - layer.Pad + ky, ox * layer.Stride - layer.Pad + kx, c, padValue)
                                        * w[((f * k + ky) * k + kx) * s.Channels + c];
                        y[((b * o.Height + oy) * o.Width + ox) * o.Channels + f] = sum;
                    }
        return y;
    }

    private (double[] Dx, double[] Dw, double[] Db) ConvBackward(double[] x, TensorShape s, double[] w, double[] dy, LayerSpec layer, double padValue)
    {
        var o = layer.OutputShape;
        int k = layer.Kernel;
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[o.Channels];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < o.Height; oy++)
                for (int ox = 0; ox < o.Width; ox++)
                    for (int f = 0; f < o.Channels; f++)
                    {
                        double g = dy[((b * o.Height + oy) * o.Width + ox) * o.Channels + f];
                        db[f] += g;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = oy * layer.Stride - layer.Pad + ky, ix = ox * layer.Stride - layer.Pad + kx;
                                bool inside = iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width;
                                for (int c = 0; c < s.Channels; c++)
                                {
                                    int wi = ((f * k + ky) * k + kx) * s.Channels + c;
                                    dw[wi] += g * Read(x, s, b, iy, ix, c, padValue);
                                    if (inside)
                                        dx[((b * s.Height + iy) * s.Width + ix) * s.Channels + c] += g * w[wi];
                                }
                            }
                    }
        return (dx, dw, db);
    }

    private double[] Dense(double[] x, int inputs, int outputs, double[] w, double[]? bias)
    {
        var y = new double[batch * outputs];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < outputs; o++)
            {
                double sum = bias?[o] ?? 0;
                for (int i = 0; i < inputs; i++)
                    sum += x[b * inputs + i] * w[o * inputs + i];
                y[b * outputs + o] = sum;
            }
        return y;
    }

    private (double[] Dx, double[] Dw, double[] Db) DenseBackward(double[] x, int inputs, int outputs, double[] w, double[] dy)
    {
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[outputs];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < outputs; o++)
            {
                double g = dy[b * outputs + o];
                db[o] += g;
                for (int i = 0; i < inputs; i++)
                {
                    dw[o * inputs + i] += g * x[b * inputs + i];
                    dx[b * inputs + i] += g * w[o * inputs + i];
                }
            }
        return (dx, dw, db);
    }

    private double[] MaxPool(double[] x, TensorShape s, int k, int stride)
    {
        int oh = (s.Height - k) / stride + 1, ow = (s.Width - k) / stride + 1;
        var y = new double[batch * oh * ow * s.Channels];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < s.Channels; c++)
                    {
                        var window = new List<double>();
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                window.Add(Read(x, s, b, oy * stride + ky, ox * stride + kx, c, 0));
                        var sorted = window.OrderByDescending(v => v).ToList();
                        PoolMargins.Add(sorted[0] - sorted[1]);
                        y[((b * oh + oy) * ow + ox) * s.Channels + c] = sorted[0];
                    }
        return y;
    }

    private double[] MaxPoolBackward(double[] x, TensorShape s, int k, int stride, double[] dy)
    {
        int oh = (s.Height - k) / stride + 1, ow = (s.Width - k) / stride + 1;
        var dx = new double[x.Length];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < s.Channels; c++)
                    {
                        int best = -1;
                        double bestValue = double.NegativeInfinity;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int index = ((b * s.Height + oy * stride + ky) * s.Width + ox * stride + kx) * s.Channels + c;
                                if (x[index] > bestValue)
                                    (best, bestValue) = (index, x[index]);
                            }
                        dx[best] += dy[((b * oh + oy) * ow + ox) * s.Channels + c];
                    }
        return dx;
    }

    /// <summary>Average pooling of square windows (global: one window over a square input); with <paramref name="dy"/>, its backward instead.</summary>
    private double[] AvgPool(double[] x, TensorShape s, LayerSpec layer, double[]? dy)
    {
        int k = layer.Kernel, stride = layer.Stride;
        int oh = (s.Height - k) / stride + 1, ow = (s.Width - k) / stride + 1;
        var result = new double[dy is null ? batch * oh * ow * s.Channels : x.Length];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < s.Channels; c++)
                    {
                        int o = ((b * oh + oy) * ow + ox) * s.Channels + c;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int index = ((b * s.Height + oy * stride + ky) * s.Width + ox * stride + kx) * s.Channels + c;
                                if (dy is null)
                                    result[o] += x[index] / (k * k);
                                else
                                    result[index] += dy[o] / (k * k);
                            }
                    }
        return result;
    }

    private const double Epsilon = 1e-5;

    private double[] BatchNorm(double[] x, int channels, double[] gamma, double[] beta)
    {
        var (mean, variance) = Statistics(x, channels);
        return BatchNorm(x, channels, gamma, beta, mean, variance);
    }

    private static double[] BatchNorm(double[] x, int channels, double[] gamma, double[] beta, double[] mean, double[] variance)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            y[i] = gamma[c] * (x[i] - mean[c]) / Math.Sqrt(variance[c] + Epsilon) + beta[c];
        }
        return y;
    }

    private static (double[] Mean, double[] Variance) Statistics(double[] x, int channels)
    {
        int n = x.Length / channels;
        var mean = new double[channels];
        var variance = new double[channels];
        for (int i = 0; i < x.Length; i++)
            mean[i % channels] += x[i] / n;
        for (int i = 0; i < x.Length; i++)
            variance[i % channels] += (x[i] - mean[i % channels]) * (x[i] - mean[i % channels]) / n;
        return (mean, variance);
    }

    private static (double[] Dx, double[] Dgamma, double[] Dbeta) BatchNormBackward(double[] x, int channels, double[] gamma, double[] dy)
    {
        int n = x.Length / channels;
        var (mean, variance) = Statistics(x, channels);
        var dgamma = new double[channels];
        var dbeta = new double[channels];
        var xhat = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            xhat[i] = (x[i] - mean[c]) / Math.Sqrt(variance[c] + Epsilon);
            dgamma[c] += dy[i] * xhat[i];
            dbeta[c] += dy[i];
        }
        var dx = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            dx[i] = gamma[c] / Math.Sqrt(variance[c] + Epsilon) * (dy[i] - dbeta[c] / n - xhat[i] * dgamma[c] / n);
        }
        return (dx, dgamma, dbeta);
    }
}
