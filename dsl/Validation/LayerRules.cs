// Per-layer checks that do not depend on shapes: bit widths (BNN0001) and option values (BNN0006).
using System.Collections.Generic;

namespace BnnDsl;

/// <summary>Checks one layer's declared options on their own.</summary>
public static class LayerRules
{
    /// <summary>Adds to <paramref name="diagnostics"/> every problem of <paramref name="layer"/> (one-based <paramref name="number"/>); returns true if none.</summary>
    public static bool Check(LayerSpec layer, int number, ICollection<NetworkDiagnostic> diagnostics)
    {
        int before = diagnostics.Count;
        var kind = layer.Kind;
        if (HasWeights(kind))
            CheckBits("WeightBits", layer.WeightBits);
        if (kind is LayerKind.QConvolution or LayerKind.QFullyConnected or LayerKind.QActivation)
            CheckBits(kind == LayerKind.QActivation ? "Bits" : "ActBits", layer.ActivationBits);

        if (kind is LayerKind.QConvolution or LayerKind.Convolution)
            CheckPositive("Filters", layer.Units);
        if (kind is LayerKind.QFullyConnected or LayerKind.FullyConnected)
            CheckPositive("Units", layer.Units);
        if (kind is LayerKind.QConvolution or LayerKind.Convolution)
            CheckPositive("Kernel", layer.Kernel);
        if (kind is LayerKind.MaxPool or LayerKind.AvgPool)
            CheckPositive("Size", layer.Kernel);
        if (IsSpatial(kind))
            CheckPositive("Stride", layer.Stride);
        if (kind is LayerKind.QConvolution or LayerKind.Convolution && layer.Pad < 0)
            Add(BnnDiagnostics.InvalidOption, "Pad", layer.Pad, "zero or a positive integer");
        if (kind == LayerKind.QConvolution && layer.Padding is not (Padding.One or Padding.Zero))
            Add(BnnDiagnostics.InvalidOption, "Padding", (int)layer.Padding, "Padding.One or Padding.Zero");
        return diagnostics.Count == before;

        void CheckBits(string option, int bits)
        {
            if (bits is < 1 or > 32)
                Add(BnnDiagnostics.BitWidthOutOfRange, option, bits);
        }

        void CheckPositive(string option, int value)
        {
            if (value <= 0)
                Add(BnnDiagnostics.InvalidOption, option, value, "a positive integer");
        }

        void Add(BnnDiagnosticDescriptor descriptor, string option, int value, string? fix = null) =>
            diagnostics.Add(fix is null
                ? NetworkDiagnostic.Create(descriptor, layer.Location, option, number, kind, value)
                : NetworkDiagnostic.Create(descriptor, layer.Location, option, number, kind, value, fix));
    }

    /// <summary>True for layers that hold learned parameters.</summary>
    public static bool HasWeights(LayerKind kind) => kind is LayerKind.QConvolution or LayerKind.QFullyConnected
        or LayerKind.Convolution or LayerKind.FullyConnected or LayerKind.BatchNorm;

    /// <summary>True for layers that slide a window over height and width.</summary>
    public static bool IsSpatial(LayerKind kind) => kind is LayerKind.QConvolution or LayerKind.Convolution
        or LayerKind.MaxPool or LayerKind.AvgPool;
}
