// What makes one example program: its network, its data set and its default settings; ExampleCommands does the rest.
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Networks;

namespace BnnDsl.Examples;

/// <summary>One example: a generated network, how to load its data set, and the defaults of its options.</summary>
public sealed record ExampleDefinition
{
    /// <summary>Program name shown in the usage text (<c>LeNet</c>, <c>ResNet18</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The network's declaration (the generated class's <c>Spec</c>).</summary>
    public required NetworkSpec Spec { get; init; }

    /// <summary>Builds the generated network for a batch size and a kernel thread count (0: all cores).</summary>
    public required Func<int, int, Network> Create { get; init; }

    /// <summary>Name of the data set in messages (<c>MNIST</c>, <c>CIFAR-10</c>).</summary>
    public required string DataName { get; init; }

    /// <summary>What <c>--data</c> must point at, for the usage text.</summary>
    public required string DataHelp { get; init; }

    /// <summary>Reads the training and test splits from a directory; throws <see cref="DataFormatException"/> when they are missing or malformed.</summary>
    public required Func<string, (LabeledImages Train, LabeledImages Test)> LoadData { get; init; }

    /// <summary>The options a command starts from before the command line changes them (data directory, run directory, recipe).</summary>
    public required ExampleOptions Defaults { get; init; }

    /// <summary>Where the defaults of the training recipe come from, for the usage text.</summary>
    public string RecipeNote { get; init; } = "";
}
