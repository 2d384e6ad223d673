// The optimizer contract: one Step updates every trainable parameter from its gradient; state exports as named tensors for checkpoints.
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace BnnDsl.Runtime.Training;

/// <summary>
/// Updates the trainable <see cref="Parameter"/>s of a network from their <see cref="Parameter.Gradient"/>s, one
/// <see cref="Step"/> per batch. Weight decay applies to <see cref="ParameterRole.Weight"/> and
/// <see cref="ParameterRole.LatentWeight"/> only (never to biases or scales); latent weights are clipped to [-1, 1]
/// after each step (DESIGN.md, straight-through estimator). <see cref="ParameterRole.State"/> parameters are ignored.
/// The optimizer's own state (moments, momentum buffers and the step count) is <see cref="State"/>: live tensors a
/// checkpoint saves and <see cref="ImportState"/> (or a checkpoint load into <see cref="State"/>) restores, after which
/// training continues bit for bit as if it had never stopped. Steps allocate nothing and are deterministic.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Name of the one-element state tensor holding the number of steps taken.</summary>
    public const string StepTensorName = "optimizer.step";

    /// <summary>The most steps one optimizer counts: the step tensor is float32, exact for integers up to 2^24.</summary>
    public const long MaxSteps = 16_777_216;

    private readonly Parameter[] _parameters;
    private readonly Parameter _step = new(StepTensorName, [1], ParameterRole.State);
    private readonly List<Parameter> _slots = [];
    private Parameter[]? _state;

    /// <summary>Takes the trainable members of <paramref name="parameters"/>, whose names must be unique.</summary>
    /// <param name="parameters">The network's parameters; <see cref="ParameterRole.State"/> ones are skipped.</param>
    /// <param name="weightDecay">Decay factor (&gt;= 0, 0 turns it off) for weights and latent weights.</param>
    protected Optimizer(IReadOnlyList<Parameter> parameters, float weightDecay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!float.IsFinite(weightDecay) || weightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be a finite value >= 0; pass 0 to turn decay off.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var trainable = new List<Parameter>(parameters.Count);
        for (int i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i] ?? throw new ArgumentException($"parameters[{i}] is null; pass the network's parameter list unchanged.", nameof(parameters));
            if (!names.Add(parameter.Name))
                throw new ArgumentException($"parameters holds two tensors named '{parameter.Name}'; names must be unique (they key checkpoints).", nameof(parameters));
            if (parameter.Trainable)
                trainable.Add(parameter);
        }
        _parameters = [.. trainable];
        WeightDecay = weightDecay;
    }

    /// <summary>The trainable parameters this optimizer updates, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Weight decay factor for weights and latent weights.</summary>
    public float WeightDecay { get; }

    /// <summary>Steps taken so far (restored by <see cref="ImportState"/>).</summary>
    public long Steps => (long)_step.Value[0];

    /// <summary>
    /// The optimizer's state as live <see cref="ParameterRole.State"/> tensors: the per-parameter buffers of the
    /// concrete optimizer, then <see cref="StepTensorName"/>. Saving these values and loading them back (into this
    /// list or through <see cref="ImportState"/>) resumes training bit-exactly.
    /// </summary>
    public IReadOnlyList<Parameter> State => _state ??= [.. _slots, _step];

    /// <summary>Updates every trainable parameter once from its gradient, then clips latent weights to [-1, 1].</summary>
    /// <param name="learningRate">Step size, finite and &gt;= 0 (usually from a <see cref="LearningRateSchedule"/>).</param>
    /// <exception cref="InvalidOperationException">The step tensor holds no valid count, or <see cref="MaxSteps"/> were taken.</exception>
    public void Step(float learningRate)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learningRate must be a finite value >= 0.");
        float taken = _step.Value[0];
        if (!IsStepCount(taken))
            throw new InvalidOperationException($"{StepTensorName} holds {taken.ToString(CultureInfo.InvariantCulture)}, not a step count in 0..{MaxSteps - 1}; load optimizer state from a checkpoint this optimizer wrote.");
        long step = (long)taken + 1;
        _step.Value[0] = step;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            bool decays = parameter.Role is ParameterRole.Weight or ParameterRole.LatentWeight;
            Update(i, parameter.Value, parameter.Gradient, learningRate, decays ? WeightDecay : 0f, step);
            if (parameter.Role == ParameterRole.LatentWeight)
                ClipToUnit(parameter.Value);
        }
    }

    /// <summary>
    /// Copies <paramref name="state"/> (tensors named and shaped as <see cref="State"/>, e.g. read from a checkpoint)
    /// into this optimizer's state. Everything is checked before anything is copied.
    /// </summary>
    public void ImportState(IReadOnlyList<Parameter> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var byName = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var tensor in state)
            if (tensor is not null)
                byName[tensor.Name] = tensor;
        var own = State;
        var sources = new Parameter[own.Count];
        for (int i = 0; i < own.Count; i++)
        {
            if (!byName.TryGetValue(own[i].Name, out var source))
                throw new ArgumentException($"state has no tensor named '{own[i].Name}'; export it from an optimizer of the same type over the same parameters.", nameof(state));
            if (!source.Shape.AsSpan().SequenceEqual(own[i].Shape))
                throw new ArgumentException($"state tensor '{own[i].Name}' has shape [{string.Join(", ", source.Shape)}], expected [{string.Join(", ", own[i].Shape)}]; export it from an optimizer over the same parameters.", nameof(state));
            sources[i] = source;
        }
        float steps = byName[StepTensorName].Value[0];
        if (!IsStepCount(steps))
            throw new ArgumentException($"state tensor '{StepTensorName}' holds {steps.ToString(CultureInfo.InvariantCulture)}, not a step count in 0..{MaxSteps - 1}.", nameof(state));
        for (int i = 0; i < own.Count; i++)
            sources[i].Value.CopyTo(own[i].Value, 0);
    }

    /// <summary>Creates a zero-filled state tensor named <c>{parameter}.{suffix}</c> shaped like <paramref name="parameter"/>.</summary>
    protected float[] AddStateTensor(Parameter parameter, string suffix)
    {
        var slot = new Parameter($"{parameter.Name}.{suffix}", parameter.Shape, ParameterRole.State);
        _slots.Add(slot);
        _state = null;
        return slot.Value;
    }

    /// <summary>Updates one parameter in place.</summary>
    /// <param name="index">Position in <see cref="Parameters"/>.</param>
    /// <param name="value">The values to update.</param>
    /// <param name="gradient">dLoss/dValue, same length.</param>
    /// <param name="learningRate">Step size.</param>
    /// <param name="weightDecay">Decay for this parameter (0 for biases and scales).</param>
    /// <param name="step">1-based number of this step.</param>
    protected abstract void Update(int index, float[] value, float[] gradient, float learningRate, float weightDecay, long step);

    private static bool IsStepCount(float value) => value >= 0 && value < MaxSteps && value == MathF.Floor(value);

    private static void ClipToUnit(float[] values)
    {
        var span = values.AsSpan();
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(span);
        var low = new Vector<float>(-1f);
        var high = Vector<float>.One;
        for (int i = 0; i < vectors.Length; i++)
            vectors[i] = Vector.Min(Vector.Max(vectors[i], low), high);
        for (int i = vectors.Length * Vector<float>.Count; i < span.Length; i++)
            span[i] = MathF.Min(MathF.Max(span[i], -1f), 1f);
    }
}
