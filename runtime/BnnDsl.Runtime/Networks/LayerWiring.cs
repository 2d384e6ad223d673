// How the layers of a NetworkSpec connect into operations and buffers, residual blocks included: the walk SpecNetwork
// and the device network share, so both wire a spec as the generated code does.
namespace BnnDsl.Runtime.Networks;

/// <summary>
/// Walks a spec's layers: one operation per layer object or residual join, each writing a buffer of its own, numbered
/// in the order the operations are added (-1: the network input). Flatten, the residual markers and the loss head add
/// no operation and pass their input buffer on.
/// </summary>
internal static class LayerWiring
{
    /// <summary>
    /// Calls <paramref name="layer"/>(layer index, input buffer) for each layer other than a residual marker (it returns
    /// whether it added an operation) and <paramref name="join"/>(layer index, main buffer, shortcut buffer) at each
    /// residual block's end (it adds the add's operation); <paramref name="wired"/>(layer index, buffer), when given,
    /// learns each layer's output buffer.
    /// </summary>
    /// <returns>The buffer holding the network's output (-1: the input).</returns>
    public static int Walk(NetworkSpec spec, Func<int, int, bool> layer, Action<int, int, int> join, Action<int, int>? wired = null)
    {
        var blocks = new Stack<(int Input, int? Main)>();
        int current = -1, added = 0;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            switch (spec.Layers[i].Kind)
            {
                case LayerKind.Residual:
                    blocks.Push((current, null));
                    break;
                case LayerKind.Shortcut:
                {
                    var (input, _) = blocks.Pop();
                    blocks.Push((input, current));
                    current = input;
                    break;
                }
                case LayerKind.EndResidual:
                {
                    var (input, main) = blocks.Pop();
                    join(i, main ?? current, main is null ? input : current);
                    current = added++;
                    break;
                }
                default:
                    if (layer(i, current))
                        current = added++;
                    break;
            }
            wired?.Invoke(i, current);
        }
        return current;
    }
}
