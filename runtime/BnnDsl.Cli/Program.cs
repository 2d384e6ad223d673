// Entry point of the `bnn` tool.
return BnnDsl.Cli.CommandLine.Run(args, Console.Out, Console.Error);
