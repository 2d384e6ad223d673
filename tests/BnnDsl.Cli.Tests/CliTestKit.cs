// Shared piece of the CLI tests: runs `bnn` in process and captures what it prints.
namespace BnnDsl.Cli.Tests;

internal static class CliTestKit
{
    /// <summary>Runs <c>bnn</c> with <paramref name="args"/>; its exit code, standard output and standard error.</summary>
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CommandLine.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
