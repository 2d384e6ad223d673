// The runtime's view of a packed model's plan: the plan itself comes from the dsl (PackedPlan); this adds the
// tensors each step reads, with their safetensors element types.
using BnnDsl.Deployment;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Runtime.Checkpoints;

namespace BnnDsl.Runtime.Deployment;

/// <summary>
/// <see cref="PackedPlan"/> (the pure plan function the source generator shares) plus the tensor list of a plan:
/// which tensors a packed model holds, with their element type and shape.
/// </summary>
public static class ModelPlanner
{
    /// <summary>The layer names the generator gives <paramref name="spec"/>'s layers (<c>conv1, bn1, qact1, …</c>), one per layer.</summary>
    public static IReadOnlyList<string> LayerNames(NetworkSpec spec) => PackedPlan.LayerNames(spec);

    /// <summary>The plan of <paramref name="spec"/> (see <see cref="PackedPlan.Plan"/>).</summary>
    /// <exception cref="ArgumentException">The spec's shapes are not the ones shape inference gives (a hand-edited or damaged description).</exception>
    /// <exception cref="NotSupportedException">A layer has bit widths the interpreter does not run, or a padded pooling.</exception>
    public static IReadOnlyList<PlanStep> Plan(NetworkSpec spec) => PackedPlan.Plan(spec);

    /// <summary>The plan as stored in a packed model's <c>plan</c> metadata: one step per line.</summary>
    public static string Text(IReadOnlyList<PlanStep> steps) => PackedPlan.Text(steps);

    /// <summary>Every tensor the steps read, with its element type and shape, in step order.</summary>
    public static IReadOnlyList<(string Name, SafeTensorDType DType, int[] Shape)> Tensors(IReadOnlyList<PlanStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var tensors = new List<(string, SafeTensorDType, int[])>();
        foreach (var step in steps)
        {
            var spec = step.Spec;
            switch (step.Op)
            {
                case PlanOp.FloatConv:
                    tensors.Add(($"{step.Layer}.weight", SafeTensorDType.F32, [spec!.Units, spec.Kernel, spec.Kernel, spec.InputShape.Channels]));
                    if (step.Bias)
                        tensors.Add(($"{step.Layer}.bias", SafeTensorDType.F32, [spec.Units]));
                    if (step.Norm is not null)
                        AddNorm(tensors, step.Norm, spec.Units);
                    break;
                case PlanOp.FloatDense or PlanOp.BitsDense:
                    tensors.Add(($"{step.Layer}.weight", SafeTensorDType.F32, [spec!.Units, (int)step.Input.Elements]));
                    if (step.Bias)
                        tensors.Add(($"{step.Layer}.bias", SafeTensorDType.F32, [spec.Units]));
                    break;
                case PlanOp.Affine:
                    tensors.Add(($"{step.Layer}.scale", SafeTensorDType.F32, [step.Input.Channels]));
                    tensors.Add(($"{step.Layer}.shift", SafeTensorDType.F32, [step.Input.Channels]));
                    break;
                case PlanOp.XnorConv or PlanOp.XnorDense:
                    tensors.Add(($"{step.Layer}.packed_weight", SafeTensorDType.U64, step.Op == PlanOp.XnorConv
                        ? [spec!.Units, spec.Kernel, spec.Kernel, SignPacking.WordsFor(spec.InputShape.Channels)]
                        : [spec!.Units, SignPacking.WordsFor((int)step.Input.Elements)]));
                    if (step.Norm is not null && step.OutputBits)
                        tensors.Add(($"{step.Layer}.threshold", SafeTensorDType.I32, [spec.Units]));
                    else if (step.Norm is not null)
                        AddNorm(tensors, step.Norm, spec.Units);
                    break;
                case PlanOp.BitSerialConv or PlanOp.BitSerialDense:
                    tensors.Add(($"{step.Layer}.packed_weight", SafeTensorDType.U64, [spec!.Units, spec.WeightBits, BitPlanes.WordsFor(PatchLength(step))]));
                    if (step.Norm is not null)
                        AddNorm(tensors, step.Norm, spec.Units);
                    break;
            }
        }
        return tensors;
    }

    /// <summary>
    /// Weights per output of a weighted step: kernel × kernel × input channels for a convolution (the im2col row, in
    /// (ky, kx, c) order), the input features for a dense layer.
    /// </summary>
    public static int PatchLength(PlanStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var spec = step.Spec ?? throw new ArgumentException($"Step '{step}' has no layer spec; pass a convolution or dense step.", nameof(step));
        return spec.Kind is LayerKind.Convolution or LayerKind.QConvolution
            ? spec.Kernel * spec.Kernel * spec.InputShape.Channels
            : (int)step.Input.Elements;
    }

    private static void AddNorm(List<(string, SafeTensorDType, int[])> tensors, string norm, int channels)
    {
        tensors.Add(($"{norm}.scale", SafeTensorDType.F32, [channels]));
        tensors.Add(($"{norm}.shift", SafeTensorDType.F32, [channels]));
    }
}
