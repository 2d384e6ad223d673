// A packed model step's tensors in device memory, in the layouts DeviceOps takes.
using ILGPU;

namespace BnnDsl.Runtime.Devices;

/// <summary>
/// The tensors one plan step reads, uploaded once by <see cref="DeviceRunner"/>; the members its op does not read
/// are empty views. <see cref="Scale"/> and <see cref="Shift"/> are a folded BatchNorm (or a float output stage's
/// scale and bias), <see cref="Packed"/> the layer's <c>.packed_weight</c> words.
/// </summary>
public sealed class DeviceStepWeights
{
    /// <summary>Float weights: OHWI for a convolution, [units, inputs] for a dense layer.</summary>
    public ArrayView<float> Weight { get; internal set; }

    /// <summary>Bias per output.</summary>
    public ArrayView<float> Bias { get; internal set; }

    /// <summary>Scale per output channel.</summary>
    public ArrayView<float> Scale { get; internal set; }

    /// <summary>Shift per output channel.</summary>
    public ArrayView<float> Shift { get; internal set; }

    /// <summary>Packed weight words: XNOR sign rows, or k-bit rows of weight planes.</summary>
    public ArrayView<ulong> Packed { get; internal set; }

    /// <summary>Integer thresholds of a step that writes packed bits.</summary>
    public ArrayView<int> Threshold { get; internal set; }
}
