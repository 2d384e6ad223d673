// Command line of the ResNet18 example: train on CIFAR-10 (or a generated set), evaluate a checkpoint, pack it, run
// the packed model, print the layer table. Every command accepts --json and then prints one JSON object as its last line.
using BnnDsl.Examples;
using BnnDsl.Examples.ResNet18;

return ExampleCommands.Run(ResNet18Example.Definition, args, Console.Out, Console.Error);
