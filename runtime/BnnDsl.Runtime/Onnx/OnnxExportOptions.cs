// What an ONNX export writes: the float reference of the network as declared, or its float peer.
namespace BnnDsl.Runtime.Onnx;

/// <summary>Options of <see cref="OnnxExport"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// False (default): the float reference of the network as declared, in evaluation mode: signs, k-bit quantizers
    /// and quantized weights included, so ONNX Runtime computes what the network computes. True: the float peer, the
    /// same architecture with every quantized layer taken as a 32-bit one: QActivation becomes the identity and
    /// QConvolution / QFullyConnected use their latent float weights (zero padding, no quantization). It has the
    /// cost of a float network of that architecture (the baseline of the benchmarks), not its trained accuracy.
    /// </summary>
    public bool FloatPeer { get; init; }
}
