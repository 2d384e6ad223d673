// Runs the dotnet CLI as a child process for the package tests: no build servers left behind, output captured, time-limited.
using BnnDsl.Tests.Shared;

namespace BnnDsl.Package.Tests;

internal static class Dotnet
{
    /// <summary>
    /// Runs <c>dotnet</c> with <paramref name="arguments"/> in <paramref name="directory"/> with NUGET_PACKAGES set to
    /// <paramref name="packagesFolder"/>, and fails the test, showing the output, if it does not exit with 0 in time.
    /// </summary>
    public static string Run(string directory, string packagesFolder, TimeSpan timeout, params string[] arguments) =>
        ChildProcess.Run(ChildProcess.DotnetHost, directory, timeout,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = packagesFolder, ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1" },
            arguments);
}
