// The BenchmarkDotNet configuration every kernel benchmark shares: a bounded job, the Ratio column, and no
// benchmark for a kernel path this processor runs only in software emulation.
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BnnDsl.Kernels.Cpu;

namespace BnnDsl.Benchmarks;

/// <summary>Warm-up 3, 10 measured iterations, one launch; methods named <c>…Avx512</c> run only where AVX-512 is real.</summary>
public class KernelBenchmarkConfig : ManualConfig
{
    public KernelBenchmarkConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1));
        AddColumn(StatisticColumn.Median);
        AddFilter(new SimpleFilter(IsRunnableInHardware));
        SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend);
    }

    private static bool IsRunnableInHardware(BenchmarkCase benchmark)
    {
        string name = benchmark.Descriptor.WorkloadMethod.Name;
        foreach (KernelPath path in Enum.GetValues<KernelPath>())
            if (path != KernelPath.Auto && name.EndsWith(path.ToString(), StringComparison.Ordinal))
                return KernelDispatch.IsHardwareAccelerated(path);
        return true;
    }
}
