// Entry point of bnn-cpu-check (scripts/cpu-check.sh runs it from the payload scripts/cpu-publish.sh makes):
//   --info                     the processor, its kernel paths and the cores this process may use
//   --tests [CLASS]            the CPU kernel, runtime and training test assemblies, in this process (TestRunner),
//                              only the test classes whose name contains CLASS when it is given
//   --bench [--quick] ARGS...  the BenchmarkDotNet benchmarks of benchmarks/BnnDsl.Benchmarks, in this process
//                              (ARGS: BenchmarkDotNet's own switches, e.g. --filter '*XnorGemm*' --artifacts DIR)
using BenchmarkDotNet.Running;
using BnnDsl.CpuCheck;
using BnnDsl.Kernels.Cpu;
using BnnDsl.Testing;

const string Usage = "usage: bnn-cpu-check --info | --tests [CLASS] | --bench [--quick] [BenchmarkDotNet switches, e.g. --filter '*XnorGemm*']";

switch (args.FirstOrDefault())
{
    case "--info":
        Console.WriteLine(CpuInfo.Describe());
        return 0;
    case "--tests" when args.Length <= 2:
        Console.WriteLine(CpuInfo.Describe());
        // The CPU test assemblies, by a public test class of each.
        return TestRunner.Run(
            [typeof(BnnDsl.Kernels.Tests.XnorGemmTests).Assembly, typeof(BnnDsl.Runtime.Tests.CheckpointTests).Assembly,
             typeof(BnnDsl.Training.Tests.FloatReferenceTests).Assembly],
            args.Length > 1 ? args[1] : null, Console.Out, $"cpu tests ({KernelDispatch.Best})");
    case "--bench":
        Console.WriteLine(CpuInfo.Describe());
        bool quick = args.Contains("--quick");
        string[] switches = [.. args.Skip(1).Where(a => a != "--quick")];
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(BnnDsl.Benchmarks.KernelBenchmarkConfig).Assembly)
            .Run(switches, InProcessConfig.Create(quick));
        // A benchmark that threw reports no result: that is a failure here, as is a filter that matched nothing.
        bool failed = !summaries.Any() || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    default:
        Console.WriteLine(Usage);
        return 2;
}
