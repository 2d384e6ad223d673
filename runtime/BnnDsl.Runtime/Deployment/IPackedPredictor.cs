// What every packed-model runner offers its callers, whichever device runs it: the CPU interpreter, a generated
// packed class or a device session.
namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// Runs a packed model on batches of up to <see cref="BatchSize"/> samples (larger counts run in chunks):
/// <see cref="PackedRunner"/> (the CPU interpreter <see cref="InferenceSession"/> and the generated packed classes)
/// and the device session of BnnDsl.Runtime.Gpu implement it, so a caller (the <c>bnn</c> tool) takes either.
/// Arguments are checked the same way by every implementation. Not thread-safe.
/// </summary>
public interface IPackedPredictor
{
    /// <summary>The model this runs.</summary>
    PackedModel Model { get; }

    /// <summary>The most samples one pass of the steps runs.</summary>
    int BatchSize { get; }

    /// <summary>
    /// Writes the logits of <paramref name="count"/> samples (<paramref name="input"/>: exactly count ×
    /// <see cref="PackedModel.InputLength"/> floats, NHWC) to <paramref name="logits"/> (at least count ×
    /// <see cref="PackedModel.OutputLength"/> floats).
    /// </summary>
    void Predict(ReadOnlySpan<float> input, int count, Span<float> logits);

    /// <summary>Writes the predicted class (index of the largest logit, the first on ties) of each of <paramref name="count"/> samples.</summary>
    void Classify(ReadOnlySpan<float> input, int count, Span<int> classes);

    /// <summary>The predicted classes of <paramref name="count"/> samples, as a new array.</summary>
    int[] Classify(ReadOnlySpan<float> input, int count);
}

/// <summary>
/// A runner that keeps every step's output of the last chunk it ran, for verification and debugging
/// (<see cref="InferenceSession"/> and the device session, when created with <c>keepStepOutputs</c>).
/// </summary>
public interface IPackedStepOutputs
{
    /// <summary>The packed bits step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a float step).</summary>
    ReadOnlySpan<ulong> StepBits(int step);

    /// <summary>The floats step <paramref name="step"/> wrote for the samples of the last chunk run (empty for a bit step).</summary>
    ReadOnlySpan<float> StepFloats(int step);
}
