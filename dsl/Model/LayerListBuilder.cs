// Collects a front end's layers in declaration order and expands repeat n ... end into copies, so the IR stays flat.
using System.Collections.Generic;
using System.Globalization;

namespace BnnDsl;

/// <summary>
/// Builds the flat layer list of a declaration: <see cref="Add"/> each layer, <see cref="BeginRepeat"/> and
/// <see cref="EndRepeat"/> around layers written once but run several times. Repeats nest; the copies keep the
/// layers' source locations. Unbalanced repeats and counts below 1 are reported as BNN0017.
/// </summary>
public sealed class LayerListBuilder
{
    private readonly List<(int Count, SourceLocation? Location, List<LayerSpec> Layers)> open = [];
    private readonly List<LayerSpec> layers = [];

    private readonly List<NetworkDiagnostic> diagnostics = [];

    /// <summary>The problems found so far (BNN0017).</summary>
    public IReadOnlyList<NetworkDiagnostic> Diagnostics => diagnostics;

    /// <summary>Appends <paramref name="layer"/> (to the innermost open repeat, if any).</summary>
    public void Add(LayerSpec layer) => (open.Count == 0 ? layers : open[open.Count - 1].Layers).Add(layer);

    /// <summary>Opens a repeat of <paramref name="count"/> copies; a count below 1 is reported and read as 1.</summary>
    public void BeginRepeat(int count, SourceLocation? location)
    {
        if (count < 1)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, location,
                string.Format(CultureInfo.InvariantCulture, "Repeat count {0} is below 1", count),
                "repeat the layers at least once, e.g. [Repeat(2)] or 'repeat 2'"));
            count = 1;
        }
        open.Add((count, location, []));
    }

    /// <summary>Closes the innermost open repeat, appending its copies; without one, reports BNN0017.</summary>
    public void EndRepeat(SourceLocation? location)
    {
        if (open.Count == 0)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, location,
                "EndRepeat closes no open Repeat", "add [Repeat(n)] before the layers to repeat, or remove [EndRepeat]"));
            return;
        }
        Close();
    }

    /// <summary>The flat list; repeats still open are reported and closed at the end.</summary>
    public List<LayerSpec> Build()
    {
        while (open.Count > 0)
        {
            diagnostics.Add(NetworkDiagnostic.Create(BnnDiagnostics.UnbalancedBlock, open[open.Count - 1].Location,
                "Repeat is never closed", "add [EndRepeat] ('end' in .bnn) after the layers to repeat"));
            Close();
        }
        return layers;
    }

    private void Close()
    {
        var (count, _, body) = open[open.Count - 1];
        open.RemoveAt(open.Count - 1);
        for (int copy = 0; copy < count; copy++)
            foreach (var layer in body)
                Add(layer);
    }
}
