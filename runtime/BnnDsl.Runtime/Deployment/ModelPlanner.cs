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
                    {
                        tensors.Add(($"{step.Norm}.scale", SafeTensorDType.F32, [spec.Units]));
                        tensors.Add(($"{step.Norm}.shift", SafeTensorDType.F32, [spec.Units]));
                    }
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
                case PlanOp.XnorConv:
                    tensors.Add(($"{step.Layer}.packed_weight", SafeTensorDType.U64,
                        [spec!.Units, spec.Kernel, spec.Kernel, SignPacking.WordsFor(spec.InputShape.Channels)]));
                    if (step.Norm is not null)
                        tensors.Add(($"{step.Layer}.threshold", SafeTensorDType.I32, [spec.Units]));
                    break;
                case PlanOp.XnorDense:
                    tensors.Add(($"{step.Layer}.packed_weight", SafeTensorDType.U64, [spec!.Units, SignPacking.WordsFor((int)step.Input.Elements)]));
                    if (step.Norm is not null)
                        tensors.Add(($"{step.Layer}.threshold", SafeTensorDType.I32, [spec.Units]));
                    break;
            }
        }
        return tensors;
    }
}
