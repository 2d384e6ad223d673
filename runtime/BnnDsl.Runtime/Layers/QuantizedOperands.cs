// The float images of quantized operands (sign, k-bit codes, float) that the quantized layers multiply with in their
// backward passes and float reference, and that the quantize-dequantize layers also multiply with forward; the STE gates.
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Layers;

/// <summary>
/// The real values of quantized operands, by width: 1 bit is sign (sign(0) = +1), 2..31 bits the values of
/// <see cref="UniformQuantizer"/> (activations <c>q / (2^k - 1)</c> of <c>q = round(clip(x, 0, 1) (2^k - 1))</c>,
/// weights <c>(2q - (2^k - 1)) / (2^k - 1)</c> of <c>q = round((clip(w, -1, 1) + 1) / 2 (2^k - 1))</c>; for 2..8 bits
/// the same quantizers the bit-serial packers use), 32 bits the float itself. STE gates: a 1-bit activation passes
/// its gradient where <c>|x| &lt;= 1</c>, a 2..31-bit activation where <c>0 &lt;= x &lt;= 1</c>, a quantized weight
/// (1..31 bits) where <c>|w| &lt;= 1</c>; 32-bit operands pass it unchanged.
/// </summary>
internal static unsafe class QuantizedOperands
{
    /// <summary>Writes the quantized value of every activation of <paramref name="x"/> into <paramref name="values"/>.</summary>
    public static void Activations(ReadOnlySpan<float> x, Span<float> values, int bits, int threads)
    {
        if (bits == 1)
            Elementwise.Sign(x, values, threads);
        else if (bits == LayerKernels.FloatBits)
            x.CopyTo(values);
        else
            Quantize(x, values, bits, weights: false, threads);
    }

    /// <summary>Writes the quantized value of every weight of <paramref name="w"/> into <paramref name="values"/>.</summary>
    public static void Weights(ReadOnlySpan<float> w, Span<float> values, int bits, int threads)
    {
        if (bits == 1)
            Elementwise.Sign(w, values, threads);
        else if (bits == LayerKernels.FloatBits)
            w.CopyTo(values);
        else
            Quantize(w, values, bits, weights: true, threads);
    }

    /// <summary>The k-bit values (2..31 bits) of <paramref name="source"/>, in chunks of <see cref="Elementwise.ChunkLength"/> run in parallel.</summary>
    private static void Quantize(ReadOnlySpan<float> source, Span<float> values, int bits, bool weights, int threads)
    {
        fixed (float* sourcePtr = source)
        fixed (float* valuesPtr = values)
        {
            var job = new QuantizeJob { Source = sourcePtr, Values = valuesPtr, Length = source.Length, Bits = bits, Weights = weights };
            KernelParallel.For((source.Length + Elementwise.ChunkLength - 1) / Elementwise.ChunkLength, threads, ref job);
        }
    }

    /// <summary>The activation STE of a <paramref name="bits"/>-bit activation, applied to <paramref name="dx"/> in place.</summary>
    public static void ActivationGate(ReadOnlySpan<float> x, Span<float> dx, int bits, int threads)
    {
        if (bits == 1)
            Elementwise.ClipGate(x, dx, dx, threads);
        else if (bits != LayerKernels.FloatBits)
            UnitGate(x, dx);
    }

    /// <summary>The weight STE of <paramref name="weight"/> (<c>|w| &lt;= 1</c> unless it is a float weight), applied to its gradient.</summary>
    public static void WeightGate(Parameter weight, int threads)
    {
        if (weight.Bits != LayerKernels.FloatBits)
            Elementwise.ClipGate(weight.Value, weight.Gradient, weight.Gradient, threads);
    }

    /// <summary>Writes the code <c>q</c> (0 .. 2^k - 1) of every activation of <paramref name="x"/>, as a float, into <paramref name="codes"/>.</summary>
    public static void ActivationCodes(ReadOnlySpan<float> x, Span<float> codes, int bits)
    {
        for (int i = 0; i < x.Length; i++)
            codes[i] = BitPlanes.QuantizeActivation(x[i], bits);
    }

    /// <summary>Writes the odd integer level <c>2q - (2^k - 1)</c> of every weight of <paramref name="w"/>, as a float, into <paramref name="levels"/>.</summary>
    public static void WeightLevels(ReadOnlySpan<float> w, Span<float> levels, int bits)
    {
        for (int i = 0; i < w.Length; i++)
            levels[i] = BitPlanes.WeightLevel(BitPlanes.QuantizeWeight(w[i], bits), bits);
    }

    /// <summary>Multiplies every value of <paramref name="y"/> by <paramref name="scale"/> (in place).</summary>
    public static void Scale(Span<float> y, float scale)
    {
        foreach (ref float value in y)
            value *= scale;
    }

    /// <summary>The activation STE: <c>dx = dx</c> where <c>0 &lt;= x &lt;= 1</c>, else 0 (in place).</summary>
    public static void UnitGate(ReadOnlySpan<float> x, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
            if (!(x[i] >= 0f && x[i] <= 1f))
                dx[i] = 0f;
    }

    /// <summary>Item: one chunk of <see cref="Elementwise.ChunkLength"/> values (each depends only on its own input).</summary>
    private struct QuantizeJob : IParallelJob
    {
        public float* Source, Values;
        public int Length, Bits;
        public bool Weights;

        public readonly void Run(int index)
        {
            int start = index * Elementwise.ChunkLength, end = Math.Min(Length, start + Elementwise.ChunkLength);
            if (Weights)
                for (int i = start; i < end; i++)
                    Values[i] = UniformQuantizer.WeightValue(Source[i], Bits);
            else
                for (int i = start; i < end; i++)
                    Values[i] = UniformQuantizer.ActivationValue(Source[i], Bits);
        }
    }

    /// <summary>Throws unless both widths lie in 2..8.</summary>
    public static void CheckBits(string layer, int weightBits, int activationBits)
    {
        if (weightBits is < 2 or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits,
                $"Layer '{layer}': weightBits must lie in 2..8 (1/1 bits is the Binary* layers; other widths run as Conv2dLayer / DenseLayer with weightBits and activationBits).");
        if (activationBits is < BitPlanes.MinActivationBits or > BitPlanes.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits,
                $"Layer '{layer}': activationBits must lie in 2..8 (1/1 bits is the Binary* layers; other widths run as Conv2dLayer / DenseLayer with weightBits and activationBits).");
    }
}

/// <summary>
/// The operands of a quantize-dequantize layer (a float layer with quantized weights and/or activations): buffers for
/// the quantized input and weights, filled by the forward pass and read again by the backward pass (which follows a
/// forward pass of the same input), and the STE gates. At 32/32 it holds no buffers and passes the operands through.
/// </summary>
internal sealed class DequantizedOperands
{
    private readonly float[] input, weights;

    /// <summary>Checks the widths (1..32 each) and allocates what they need.</summary>
    public DequantizedOperands(string layer, int inputLength, int weightLength, int weightBits, int activationBits)
    {
        if (weightBits is < 1 or > LayerKernels.FloatBits)
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, $"Layer '{layer}': weightBits must lie in 1..32.");
        if (activationBits is < 1 or > LayerKernels.FloatBits)
            throw new ArgumentOutOfRangeException(nameof(activationBits), activationBits, $"Layer '{layer}': activationBits must lie in 1..32.");
        WeightBits = weightBits;
        ActivationBits = activationBits;
        input = activationBits == LayerKernels.FloatBits ? [] : new float[inputLength];
        weights = weightBits == LayerKernels.FloatBits ? [] : new float[weightLength];
    }

    /// <summary>Bits per weight (32: float).</summary>
    public int WeightBits { get; }

    /// <summary>Bits per input activation (32: float).</summary>
    public int ActivationBits { get; }

    /// <summary>True when the weights are latent floats quantized on use (fewer than 32 bits).</summary>
    public bool QuantizesWeights => WeightBits != LayerKernels.FloatBits;

    /// <summary>Quantizes <paramref name="x"/> unless it is float; returns the input the layer multiplies with.</summary>
    public ReadOnlySpan<float> QuantizeInput(ReadOnlySpan<float> x, int threads)
    {
        if (ActivationBits == LayerKernels.FloatBits)
            return x;
        QuantizedOperands.Activations(x, input, ActivationBits, threads);
        return input;
    }

    /// <summary>Quantizes <paramref name="w"/> unless it is float; returns the weights the layer multiplies with.</summary>
    public ReadOnlySpan<float> QuantizeWeights(float[] w, int threads)
    {
        if (WeightBits == LayerKernels.FloatBits)
            return w;
        QuantizedOperands.Weights(w, weights, WeightBits, threads);
        return weights;
    }

    /// <summary>The input of the last <see cref="QuantizeInput"/> (<paramref name="x"/> itself when float).</summary>
    public ReadOnlySpan<float> Input(ReadOnlySpan<float> x) => ActivationBits == LayerKernels.FloatBits ? x : input;

    /// <summary>The weights of the last <see cref="QuantizeWeights"/> (<paramref name="w"/> itself when float).</summary>
    public ReadOnlySpan<float> Weights(float[] w) => WeightBits == LayerKernels.FloatBits ? w : weights;

    /// <summary>Applies both STE gates: to the weight gradient and, unless it is empty, to dx.</summary>
    public void Gate(Parameter weight, ReadOnlySpan<float> x, Span<float> dx, int threads)
    {
        QuantizedOperands.WeightGate(weight, threads);
        if (!dx.IsEmpty)
            QuantizedOperands.ActivationGate(x, dx, ActivationBits, threads);
    }
}
