// The BenchmarkDotNet configuration bnn-cpu-check adds to every benchmark class: each job runs in this process
// (InProcessEmitToolchain), since the machine it is for has no .NET SDK to build BenchmarkDotNet's child projects.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace BnnDsl.CpuCheck;

internal static class InProcessConfig
{
    /// <summary>
    /// The default configuration (console, the GitHub markdown report) plus a mutator job: it changes every job the
    /// classes declare (KernelBenchmarkConfig: warm-up 3, 10 iterations) to run in process and, with
    /// <paramref name="quick"/>, to warm up twice and measure 6 iterations of about 150 ms without the overhead stages, so the whole set of
    /// benchmark classes fits into one device session; the baselines run in the same process, so the Ratio column
    /// stands either way.
    /// </summary>
    public static IConfig Create(bool quick)
    {
        var job = new Job("InProcess").WithToolchain(InProcessEmitToolchain.Instance);
        if (quick)
            job = job.WithWarmupCount(2).WithIterationCount(6).WithIterationTime(TimeInterval.FromMilliseconds(150))
                .WithEvaluateOverhead(false);  // the kernels take milliseconds: an empty call's nanoseconds do not matter
        return DefaultConfig.Instance.AddJob(job.AsMutator());
    }
}
