// --ptx DIR: the PTX of every kernel the check ran, written to DIR and assembled by ptxas for sm_90 when ptxas is
// found, with one line per kernel: registers, stack frame, spills and shared memory (what decides occupancy and speed).
using System.Diagnostics;
using System.Text.RegularExpressions;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime;

namespace BnnDsl.GpuCheck;

/// <summary>What ptxas said of one kernel: whether it assembled, and the resources of its entry.</summary>
internal sealed record PtxasResult(PtxKernel Kernel, bool Assembled, int Registers, int StackBytes, int SpillStoreBytes,
    int SpillLoadBytes, int SharedBytes, string Messages);

internal static partial class PtxReport
{
    /// <summary>The architecture ptxas assembles for.</summary>
    public const string Architecture = "sm_90";

    /// <summary>
    /// Writes the PTX of every kernel this process loaded into <paramref name="directory"/> (one <c>.ptx</c> per kernel
    /// and variant, written to a temporary name and renamed), assembles each with ptxas when <see cref="FindPtxas"/>
    /// finds one, and writes one line per kernel to <paramref name="output"/>. Returns the number of kernels that did
    /// not compile to PTX or that ptxas refused.
    /// </summary>
    public static int Write(GpuDevice device, string directory, TextWriter output)
    {
        IReadOnlyList<PtxKernel> kernels;
        try
        {
            kernels = GpuPtx.Compile(device);
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine($"ptx FAILED: {e.Message}");
            return 1;
        }
        Directory.CreateDirectory(directory);
        foreach (var kernel in kernels)
            AtomicFile.Write(Path.Combine(directory, kernel.FileName), stream =>
            {
                using var writer = new StreamWriter(stream, leaveOpen: true);
                writer.Write(kernel.Assembly);
            });
        output.WriteLine($"ptx: {kernels.Count} kernels written to {directory}");

        string? ptxas = FindPtxas();
        if (ptxas is null)
        {
            output.WriteLine("ptxas not found (set PTXAS, put the CUDA toolkit's bin on PATH, or run 'bash scripts/fetch-ptxas.sh'): PTX written, not assembled.");
            return 0;
        }
        output.WriteLine($"ptxas {Version(ptxas)} -arch={Architecture} -v ({ptxas}):");
        output.WriteLine($"{"kernel",-58} {"regs",5} {"stack",6} {"spill st",8} {"spill ld",8} {"smem",6}");
        int failed = 0;
        foreach (var kernel in kernels)
        {
            var result = Assemble(ptxas, Path.Combine(directory, kernel.FileName), kernel);
            string name = $"{kernel.Name} {kernel.Variant}".Trim();
            if (result.Assembled)
                output.WriteLine($"{name,-58} {result.Registers,5} {result.StackBytes,6} {result.SpillStoreBytes,8} {result.SpillLoadBytes,8} {result.SharedBytes,6}");
            else
            {
                failed++;
                output.WriteLine($"ptxas FAILED on {name}: {result.Messages}");
            }
        }
        return failed;
    }

    /// <summary>
    /// ptxas from <c>$PTXAS</c>, else the first <c>ptxas</c> on <c>PATH</c>, else <c>/usr/local/cuda/bin/ptxas</c>,
    /// else the copy scripts/fetch-ptxas.sh caches (<c>$BNNDSL_PTXAS_DIR</c>, default <c>~/.cache/bnndsl/ptxas</c>); null if none exists.
    /// </summary>
    public static string? FindPtxas()
    {
        if (Environment.GetEnvironmentVariable("PTXAS") is { Length: > 0 } explicitPath)
            return File.Exists(explicitPath) ? explicitPath : null;
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/local/cuda/bin")
            .Append(Environment.GetEnvironmentVariable("BNNDSL_PTXAS_DIR") is { Length: > 0 } cache ? cache
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "bnndsl", "ptxas"));
        return candidates.Select(folder => Path.Combine(folder, "ptxas")).FirstOrDefault(File.Exists);
    }

    /// <summary>Assembles one module for <see cref="Architecture"/> with <c>-v</c> and parses the resources of its entry.</summary>
    internal static PtxasResult Assemble(string ptxas, string ptxFile, PtxKernel kernel)
    {
        string cubin = Path.ChangeExtension(ptxFile, ".cubin");
        var (code, messages) = RunProcess(ptxas, ["-arch=" + Architecture, "-v", ptxFile, "-o", cubin]);
        File.Delete(cubin);
        if (code != 0)
            return new PtxasResult(kernel, false, 0, 0, 0, 0, 0, messages.Trim().ReplaceLineEndings(" | "));
        return Parse(kernel, messages);
    }

    /// <summary>Reads ptxas -v's "N bytes stack frame, N bytes spill stores, N bytes spill loads" and "Used N registers[, N bytes smem]".</summary>
    internal static PtxasResult Parse(PtxKernel kernel, string messages)
    {
        var frame = FrameLine().Match(messages);
        var used = UsedLine().Match(messages);
        var shared = SharedBytes().Match(used.Success ? used.Value : "");
        int Group(Match match, int group) => match.Success ? int.Parse(match.Groups[group].Value) : 0;
        return new PtxasResult(kernel, used.Success, Group(used, 1), Group(frame, 1), Group(frame, 2), Group(frame, 3),
            Group(shared, 1), messages.Trim());
    }

    private static string Version(string ptxas)
    {
        var (_, text) = RunProcess(ptxas, ["--version"]);
        var match = Regex.Match(text, @"release ([0-9.]+)");
        return match.Success ? match.Groups[1].Value : "(unknown version)";
    }

    private static (int Code, string Output) RunProcess(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var error = process.StandardError.ReadToEndAsync();
        string standard = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, standard + error.Result);
    }

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex FrameLine();

    [GeneratedRegex(@"Used (\d+) registers[^\n]*")]
    private static partial Regex UsedLine();

    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SharedBytes();
}
