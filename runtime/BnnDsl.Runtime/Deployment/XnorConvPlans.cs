// The binary convolution plans of one XNOR step of generated packed code: one per chunk size, and bit im2col scratch per lane.
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// A <see cref="BinaryConv2dPlan"/> is bound to a batch size, so a packed network keeps one per number of samples
/// a lane runs (built on first use, as <see cref="InferenceSession"/> does; plans hold no buffers, so lanes share
/// them and two lanes building the same one at once is harmless), and one scratch buffer per lane sized for the
/// lane's capacity (<see cref="PackedRunner.LaneCapacity"/>).
/// </summary>
public sealed class XnorConvPlans
{
    private readonly Conv2dShape image;
    private readonly BinaryConvWeights weights;
    private readonly BinaryPadding padding;
    private readonly BinaryConv2dPlan?[] plans;
    private readonly ulong[][] scratch;

    /// <summary>Binds <paramref name="weights"/> to the geometry of one image (<paramref name="image"/>'s batch is ignored) for the lanes of <paramref name="network"/>.</summary>
    public XnorConvPlans(PackedNetwork network, Conv2dShape image, BinaryConvWeights weights, BinaryPadding padding)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(weights);
        this.image = image with { Batch = 1 };
        this.weights = weights;
        this.padding = padding;
        plans = new BinaryConv2dPlan?[network.BatchSize + 1];
        scratch = new ulong[network.Lanes][];
        for (int lane = 0; lane < scratch.Length; lane++)
            scratch[lane] = new ulong[BinaryConv2d.ScratchLength(this.image with { Batch = network.LaneCapacity(lane) })];
    }

    /// <summary>The plan for <paramref name="count"/> samples (at most the network's batch size).</summary>
    public BinaryConv2dPlan Plan(int count) => plans[count] ??= new BinaryConv2dPlan(image with { Batch = count }, weights, padding);

    /// <summary>The bit im2col scratch of lane <paramref name="lane"/>.</summary>
    public ulong[] Scratch(int lane) => scratch[lane];
}
