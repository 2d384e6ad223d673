// Command line of the LeNet example: train on MNIST, evaluate a checkpoint, pack it, run the packed model, print the layer table.
// Every command accepts --json and then prints one JSON object as its last line.
using BnnDsl.Examples;
using BnnDsl.Examples.LeNet;

return ExampleCommands.Run(LeNetExample.Definition, args, Console.Out, Console.Error);
