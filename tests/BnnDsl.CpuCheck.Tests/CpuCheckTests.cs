// bnn-cpu-check runs BenchmarkDotNet in its own process (a machine without the .NET SDK cannot build child projects):
// here the configuration it adds runs a tiny benchmark class that carries the kernel benchmarks' own configuration,
// and must turn its job into an in-process one with the quick settings; the program's exit codes for bad input.
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BnnDsl.Benchmarks;
using BnnDsl.CpuCheck;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.CpuCheck.Tests;

public sealed class CpuCheckTests : IDisposable
{
    private readonly string artifacts = Directory.CreateTempSubdirectory("bnn-cpu-check-").FullName;

    public void Dispose() => Directory.Delete(artifacts, recursive: true);

    [Fact]
    public void TheQuickInProcessConfigRunsTheKernelBenchmarksJobInThisProcess()
    {
        TinyBenchmark.ProcessIds.Clear();
        var config = InProcessConfig.Create(quick: true).WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);  // a Debug build of the tests still runs it
        var summary = BenchmarkRunner.Run<TinyBenchmark>(config);

        Assert.False(summary.HasCriticalValidationErrors);
        Assert.Equal(2, summary.Reports.Length);
        foreach (var report in summary.Reports)
        {
            Assert.True(report.Success, $"{report.BenchmarkCase.DisplayInfo} did not run");
            Job job = report.BenchmarkCase.Job;
            Assert.IsType<InProcessEmitToolchain>(job.Infrastructure.Toolchain);
            // The mutator's values replace KernelBenchmarkConfig's (warm-up 3, 10 iterations).
            Assert.Equal(2, job.Run.WarmupCount);
            Assert.Equal(6, job.Run.IterationCount);
            Assert.Equal(1, job.Run.LaunchCount);
            Assert.False(job.Accuracy.EvaluateOverhead);
            Assert.Equal(6, report.AllMeasurements.Count(m => m.IterationMode == IterationMode.Workload && m.IterationStage == IterationStage.Actual));
        }
        // Every invocation ran here, in the test's own process.
        Assert.NotEmpty(TinyBenchmark.ProcessIds);
        Assert.All(TinyBenchmark.ProcessIds, id => Assert.Equal(Environment.ProcessId, id));
        // The Ratio column has its baseline.
        Assert.Single(summary.BenchmarksCases, c => c.Descriptor.Baseline);
    }

    [Fact]
    public void TheClassesOwnJobStaysWithoutQuick()
    {
        var config = InProcessConfig.Create(quick: false);
        var benchmarks = BenchmarkConverter.TypeToBenchmarks(typeof(TinyBenchmark), config);
        Assert.All(benchmarks.BenchmarksCases, c =>
        {
            Assert.IsType<InProcessEmitToolchain>(c.Job.Infrastructure.Toolchain);
            Assert.Equal(3, c.Job.Run.WarmupCount);
            Assert.Equal(10, c.Job.Run.IterationCount);
        });
    }

    [Theory]
    [InlineData(2, "--no-such-option")]
    [InlineData(2)]
    [InlineData(1, "--bench", "--quick", "--filter", "*NoSuchBenchmark*")]
    [InlineData(1, "--tests", "NoSuchTestClass")]
    public void BadInputExitsWithAnErrorCode(int expected, params string[] args)
    {
        var entry = typeof(InProcessConfig).Assembly.EntryPoint ?? throw new InvalidOperationException("bnn-cpu-check has no entry point");
        var previousOut = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        int code;
        try
        {
            code = (int)entry.Invoke(null, [args])!;
        }
        finally
        {
            Console.SetOut(previousOut);
        }
        Assert.True(expected == code, $"bnn-cpu-check {string.Join(' ', args)} exited {code}, expected {expected}; it printed:\n{output}");
        if (expected == 2)
            Assert.Contains("usage: bnn-cpu-check", output.ToString());
    }

    [Fact]
    public void TheProcessorLineNamesTheKernelPathAndTheCores()
    {
        string line = CpuInfo.Describe();
        Assert.StartsWith("processor: ", line);
        Assert.Contains($"kernel path {KernelDispatch.Best} ", line);
        Assert.Contains($"{Environment.ProcessorCount} of the machine's cores", line);
    }
}

/// <summary>Two small float sums under the kernel benchmarks' configuration; records the process each ran in.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class TinyBenchmark
{
    internal static readonly System.Collections.Concurrent.ConcurrentBag<int> ProcessIds = [];

    private readonly float[] values = [.. Enumerable.Range(0, 4096).Select(i => (i % 17) * 0.25f)];

    [Benchmark(Baseline = true)]
    public float Forward()
    {
        ProcessIds.Add(Environment.ProcessId);
        float sum = 0;
        foreach (float v in values)
            sum += v;
        return sum;
    }

    [Benchmark]
    public float Backward()
    {
        float sum = 0;
        for (int i = values.Length - 1; i >= 0; i--)
            sum += values[i];
        return sum;
    }
}
