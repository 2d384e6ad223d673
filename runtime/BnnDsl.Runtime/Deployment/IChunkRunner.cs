// A packed-model runner seen as what Predict and Classify need from it: one chunk of samples at a time.
namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// A runner whose <see cref="IPackedPredictor.Predict"/> and <see cref="IPackedPredictor.Classify(ReadOnlySpan{float}, int, Span{int})"/>
/// are <see cref="PredictorArguments"/>' chunk loops (the CPU <see cref="PackedRunner"/> and the device session).
/// </summary>
internal interface IChunkRunner : IPackedPredictor
{
    /// <summary>
    /// Runs the <paramref name="count"/> samples of <paramref name="input"/> (at most <see cref="IPackedPredictor.BatchSize"/>)
    /// and returns their logits: <paramref name="logits"/> itself when the runner writes there, else its own buffer's
    /// (always when <paramref name="logits"/> is empty), valid until the next chunk.
    /// </summary>
    ReadOnlySpan<float> RunChunk(ReadOnlySpan<float> input, int count, Span<float> logits);
}
