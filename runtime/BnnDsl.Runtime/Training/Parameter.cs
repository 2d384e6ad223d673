// A named tensor of a network: trainable weights (with their gradient) or state such as BatchNorm running statistics.
namespace BnnDsl.Runtime.Training;

/// <summary>What a <see cref="Parameter"/> is, which decides how optimizers and the converter treat it.</summary>
public enum ParameterRole
{
    /// <summary>Float weights of a 32-bit layer: trained, weight decay applies.</summary>
    Weight,
    /// <summary>Latent float weights of a quantized layer: trained, weight decay applies, clipped to [-1, 1] after each step.</summary>
    LatentWeight,
    /// <summary>Biases and BatchNorm shifts: trained, no weight decay.</summary>
    Bias,
    /// <summary>BatchNorm scales: trained, no weight decay.</summary>
    Scale,
    /// <summary>Not trained by the optimizer (BatchNorm running mean and variance); saved and loaded with the weights.</summary>
    State,
}

/// <summary>
/// One named tensor: <see cref="Value"/> (row-major, <see cref="Shape"/>) and, for trainable roles, a
/// <see cref="Gradient"/> of the same length that each backward pass overwrites. <see cref="Bits"/> is the width
/// the deployed layer uses for these values (1 for binary weights, 32 for float).
/// </summary>
public sealed class Parameter
{
    /// <summary>Creates a zero-filled parameter.</summary>
    public Parameter(string name, int[] shape, ParameterRole role, int bits = 32)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        long length = 1;
        foreach (int dim in shape)
        {
            if (dim <= 0)
                throw new ArgumentException($"Parameter '{name}' has a dimension of {dim}; every dimension must be at least 1.", nameof(shape));
            length *= dim;
        }
        if (length > Array.MaxLength)
            throw new ArgumentException($"Parameter '{name}' would hold {length} values, more than an array can.", nameof(shape));
        if (bits is < 1 or > 32)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"Parameter '{name}': bits must be 1..32.");
        Name = name;
        Shape = (int[])shape.Clone();
        Role = role;
        Bits = bits;
        Value = new float[length];
        Gradient = role == ParameterRole.State ? [] : new float[length];
    }

    /// <summary>Dotted name, unique in its network (e.g. <c>conv2.weight</c>); the checkpoint key.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>How optimizers treat it.</summary>
    public ParameterRole Role { get; }

    /// <summary>Deployed width of the values (1..32).</summary>
    public int Bits { get; }

    /// <summary>The values.</summary>
    public float[] Value { get; }

    /// <summary>dLoss/dValue from the last backward pass; empty for <see cref="ParameterRole.State"/>.</summary>
    public float[] Gradient { get; }

    /// <summary>Whether the optimizer updates it.</summary>
    public bool Trainable => Role != ParameterRole.State;

    /// <summary>Number of values.</summary>
    public int Length => Value.Length;
}
