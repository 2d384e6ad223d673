// Where the forward, loss, backward and optimizer step of a training run execute: the host network (the default) or a device.
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Runtime.Training;

/// <summary>The loss of one training batch and how many of its samples the network classified correctly.</summary>
/// <param name="Loss">Mean softmax cross-entropy of the batch (NaN or infinite when the run diverged).</param>
/// <param name="Correct">Samples whose largest logit is their label.</param>
public readonly record struct TrainingStepResult(float Loss, int Correct);

/// <summary>
/// The part of <see cref="Trainer"/>'s loop that touches the weights: forward, loss, backward and the optimizer step of
/// one batch. The Trainer keeps everything else (data order, augmentation, the learning-rate schedule, evaluation,
/// checkpoints, resume), so a device engine (e.g. <c>BnnDsl.Runtime.Devices.DeviceTrainingStep</c>) only has to keep its
/// copy of the parameters and optimizer state and give them back when the Trainer asks. Without one, the Trainer runs
/// the host network and optimizer directly.
/// </summary>
public interface ITrainingStep
{
    /// <summary>
    /// Called once per <see cref="Trainer.Run"/>, after <paramref name="network"/>'s parameters and
    /// <paramref name="optimizer"/>'s state hold the starting point (initialized, or restored from a checkpoint).
    /// </summary>
    void Begin(Network network, Optimizer optimizer);

    /// <summary>Optimizer steps taken so far, resumed ones included (the learning-rate schedule's position).</summary>
    long Steps { get; }

    /// <summary>
    /// Trains on one batch (<see cref="Network.BatchSize"/> normalized samples and their labels) with
    /// <paramref name="learningRate"/>. When the loss is not finite the step may stop before updating anything.
    /// </summary>
    TrainingStepResult Step(ReadOnlySpan<float> input, ReadOnlySpan<int> labels, float learningRate);

    /// <summary>Makes the host network's parameters (BatchNorm statistics included) and the optimizer's state current.</summary>
    void SyncToHost();

    /// <summary>Called when <see cref="Trainer.Run"/> ends, normally or not: release what <see cref="Begin"/> acquired.</summary>
    void End();
}

/// <summary>The Trainer's default step: today's host loop, the network's own Forward / Loss / Backward and the optimizer.</summary>
internal sealed class HostTrainingStep : ITrainingStep
{
    private Network? network;
    private Optimizer? optimizer;

    public long Steps => Optimizer.Steps;

    private Network Network => network ?? throw new InvalidOperationException("Call Begin before stepping.");

    private Optimizer Optimizer => optimizer ?? throw new InvalidOperationException("Call Begin before stepping.");

    public void Begin(Network network, Optimizer optimizer)
    {
        this.network = network;
        this.optimizer = optimizer;
    }

    public TrainingStepResult Step(ReadOnlySpan<float> input, ReadOnlySpan<int> labels, float learningRate)
    {
        var net = Network;
        net.Forward(input, training: true);
        float loss = net.Loss(labels);
        if (!float.IsFinite(loss))
            return new TrainingStepResult(loss, net.Correct);
        net.Backward(input);
        Optimizer.Step(learningRate);
        return new TrainingStepResult(loss, net.Correct);
    }

    public void SyncToHost()
    {
    }

    public void End()
    {
        network = null;
        optimizer = null;
    }
}
