// Entry point: `dotnet run -c Release --project benchmarks/BnnDsl.Benchmarks -- --filter '*'` (BenchmarkDotNet switches).
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
