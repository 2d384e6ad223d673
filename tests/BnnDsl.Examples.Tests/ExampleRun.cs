// Runs an example program's command line in-process and returns its exit code, its output and its --json line.
using System.Text.Json;

namespace BnnDsl.Examples.Tests;

internal sealed record ExampleRun(int ExitCode, string Output, string Error)
{
    public static ExampleRun Of(ExampleDefinition example, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = ExampleCommands.Run(example, args, output, error);
        return new ExampleRun(code, output.ToString(), error.ToString());
    }

    /// <summary>The JSON object printed as the last line (the command ran with --json and succeeded).</summary>
    public JsonElement Json
    {
        get
        {
            Assert.True(ExitCode == 0, $"exit code {ExitCode}: {Error}\n{Output}");
            string last = Output.TrimEnd().Split('\n')[^1];
            return JsonDocument.Parse(last).RootElement.Clone();
        }
    }
}
