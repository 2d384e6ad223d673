// Runs a child process for the integration tests (dotnet, gcc, the programs they build): output captured, time-limited,
// and no MSBuild settings of the `dotnet test` host leaking into a separate build. Linked into each test project that needs it.
using System.Diagnostics;
using System.Text;

namespace BnnDsl.Tests.Shared;

internal static class ChildProcess
{
    /// <summary>The dotnet host that runs this test (DOTNET_HOST_PATH), or <c>dotnet</c> from PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="arguments"/> in <paramref name="directory"/>, with the
    /// telemetry, logo and node-reuse switches of the dotnet CLI off and <paramref name="environment"/> added, and
    /// fails the test, showing the output, if it does not exit with 0 within <paramref name="timeout"/>. Returns
    /// stdout and stderr interleaved.
    /// </summary>
    public static string Run(string program, string directory, TimeSpan timeout, IReadOnlyDictionary<string, string> environment,
        params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The test host runs under `dotnet test`, whose MSBuild settings must not leak into a separate build.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds} s:\n{Text(output)}");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{Text(output)}");
        return Text(output);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
            return;
        lock (output)
            output.Append(line).Append('\n');
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
            return output.ToString();
    }
}
