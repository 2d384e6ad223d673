// Command line of the LeNet example: `summary` prints the generated layer table.
using BnnDsl.Examples.LeNet;

switch (args)
{
    case ["summary"]:
        Console.Write(LeNet.Summary());
        return 0;
    default:
        Console.Error.WriteLine("usage: LeNet summary");
        return 2;
}
