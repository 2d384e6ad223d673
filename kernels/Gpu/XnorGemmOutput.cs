// What the GPU XNOR GEMM writes per output: the int32 dot product or one threshold bit (struct type parameters).
using ILGPU;

namespace BnnDsl.Kernels.Gpu;

/// <summary>Where a dot product of row <c>row</c> of A and row <c>col</c> of B goes; a struct so kernels specialize on it.</summary>
internal interface IXnorGemmOutput
{
    void Store(int row, int col, int dot);
}

/// <summary>C[row, col] = dot, row-major with <c>n</c> columns.</summary>
internal readonly struct Int32Dots(ArrayView<int> c, int n) : IXnorGemmOutput
{
    private readonly ArrayView<int> c = c;
    private readonly int n = n;

    public void Store(int row, int col, int dot) => c[row * n + col] = dot;
}

/// <summary>
/// Bit col of packed row <c>row</c> (ceil(n / 64) words) is set (−1) when dot &lt; threshold[col]; the rows must be
/// zero before the launch, since bits are OR-ed in atomically by the threads that share a word.
/// </summary>
internal readonly struct ThresholdBits(ArrayView<int> threshold, ArrayView<ulong> bits, int words) : IXnorGemmOutput
{
    private readonly ArrayView<int> threshold = threshold;
    private readonly ArrayView<ulong> bits = bits;
    private readonly int words = words;

    public void Store(int row, int col, int dot)
    {
        if (dot < threshold[col])
            Atomic.Or(ref bits[row * words + (col >> 6)], 1UL << (col & 63));
    }
}

/// <summary>
/// C[row, col] = scale[col] · dot + bias[col] as float (multiply, round, add, round: the CPU kernel's scale-bias
/// output), row-major with <c>n</c> columns: a folded BatchNorm, or ones and zeros for the bare dot products.
/// </summary>
internal readonly struct ScaleBiasFloats(ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> c, int n) : IXnorGemmOutput
{
    private readonly ArrayView<float> scale = scale;
    private readonly ArrayView<float> bias = bias;
    private readonly ArrayView<float> c = c;
    private readonly int n = n;

    public void Store(int row, int col, int dot)
    {
        float scaled = scale[col] * dot;
        c[row * n + col] = scaled + bias[col];
    }
}
