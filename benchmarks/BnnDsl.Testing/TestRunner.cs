// Test assemblies run in this process through xunit's own discovery and execution (xunit.execution), so a machine with
// a self-contained payload and no .NET SDK runs the very tests CI runs: bnn-gpu-check --tests runs the GPU test
// assemblies on CUDA, bnn-cpu-check --tests the CPU kernel, runtime and training tests on a processor whose kernel
// paths (AVX-512) CI's machine does not have.
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace BnnDsl.Testing;

/// <summary>
/// Runs every test of the given test assemblies, xunit's parallel collections as in <c>dotnet test</c>, with
/// environment variables set for the run and restored afterwards. Writes each failure (message and the top of its
/// stack), each skip, one summary line per assembly and a closing line <c>LABEL: N passed, M failed, K skipped</c>.
/// </summary>
public static class TestRunner
{
    /// <summary>The variable the GPU tests read to choose their device (GpuTestDevices, DeviceTestData).</summary>
    public const string DeviceVariable = "BNN_TEST_DEVICE";

    /// <summary>
    /// The GPU tests on <paramref name="device"/> (<c>cuda</c> or <c>ilgpu-cpu</c>): <see cref="DeviceVariable"/> set to
    /// it (the kernel tests' <c>[MemberData(Kinds)]</c> then yield that kind only, and the runtime tests open that
    /// device); the closing line reads <c>gpu tests on DEVICE: …</c>.
    /// </summary>
    public static int Run(IReadOnlyList<Assembly> assemblies, string device, string? classFilter, TextWriter output) =>
        Run(assemblies, classFilter, output, $"gpu tests on {device}", new Dictionary<string, string?> { [DeviceVariable] = device });

    /// <summary>
    /// Runs the tests of <paramref name="assemblies"/>, only those of classes whose full name contains
    /// <paramref name="classFilter"/> when it is given, with <paramref name="environment"/>'s variables set for the run
    /// (restored afterwards); returns 0 when at least one ran and none failed, else 1.
    /// </summary>
    public static int Run(IReadOnlyList<Assembly> assemblies, string? classFilter, TextWriter output, string label,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(assemblies);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(label);
        var previous = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            previous[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }
        try
        {
            int passed = 0, failed = 0, skipped = 0;
            var clock = Stopwatch.StartNew();
            foreach (var assembly in assemblies)
            {
                var result = Run(assembly, classFilter, output);
                passed += result.Passed;
                failed += result.Failed;
                skipped += result.Skipped;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {assembly.GetName().Name}: {result.Passed} passed, {result.Failed} failed, {result.Skipped} skipped ({result.Seconds:F1} s; slowest: {result.Slowest})"));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: {passed} passed, {failed} failed, {skipped} skipped in {clock.Elapsed.TotalSeconds:F0} s"));
            return failed == 0 && passed > 0 ? 0 : 1;
        }
        finally
        {
            foreach (var (name, value) in previous)
                Environment.SetEnvironmentVariable(name, value);
        }
    }

    private sealed record AssemblyResult(int Passed, int Failed, int Skipped, double Seconds, string Slowest);

    private static AssemblyResult Run(Assembly assembly, string? classFilter, TextWriter output)
    {
        var diagnostics = new DiagnosticSink(output);
        var framework = new XunitTestFramework(diagnostics);
        var options = new Options();
        options.SetValue("xunit.discovery.PreEnumerateTheories", true);
        using var discoverySink = new DiscoverySink();
        using (var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly)))
        {
            discoverer.Find(includeSourceInformation: false, discoverySink, options);
            discoverySink.Finished.Wait();
        }
        var testCases = classFilter is null
            ? discoverySink.TestCases
            : [.. discoverySink.TestCases.Where(t => t.TestMethod.TestClass.Class.Name.Contains(classFilter, StringComparison.Ordinal))];
        if (testCases.Count == 0)
            return new AssemblyResult(0, diagnostics.Errors, 0, 0, "none");
        using var executionSink = new ExecutionSink(output);
        using (var executor = framework.GetExecutor(assembly.GetName()))
        {
            executor.RunTests(testCases, executionSink, options);
            executionSink.Finished.Wait();
        }
        var slowest = string.Join(", ", executionSink.Times.OrderByDescending(t => t.Seconds).Take(3)
            .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} {t.Seconds:F1} s")));
        return new AssemblyResult(executionSink.Passed, executionSink.Failed + diagnostics.Errors, executionSink.Skipped,
            executionSink.Seconds, slowest);
    }

    /// <summary>The discovery and execution options: xunit's defaults, except the values set.</summary>
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> values = new(StringComparer.Ordinal);

        public TValue GetValue<TValue>(string name) => values.TryGetValue(name, out var value) && value is TValue typed ? typed : default!;

        public void SetValue<TValue>(string name, TValue value) => values[name] = value;
    }

    /// <summary>Collects the test cases found.</summary>
    private sealed class DiscoverySink : Xunit.LongLivedMarshalByRefObject, IMessageSink, IDisposable
    {
        public List<ITestCase> TestCases { get; } = [];

        public ManualResetEventSlim Finished { get; } = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage discovered)
                TestCases.Add(discovered.TestCase);
            else if (message is IDiscoveryCompleteMessage)
                Finished.Set();
            return true;
        }

        public void Dispose() => Finished.Dispose();
    }

    /// <summary>Counts results, writes failures and skips, and records each test's time.</summary>
    private sealed class ExecutionSink(TextWriter output) : Xunit.LongLivedMarshalByRefObject, IMessageSink, IDisposable
    {
        private readonly Lock gate = new();

        public int Passed { get; private set; }

        public int Failed { get; private set; }

        public int Skipped { get; private set; }

        public double Seconds { get; private set; }

        public List<(string Name, double Seconds)> Times { get; } = [];

        public ManualResetEventSlim Finished { get; } = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            lock (gate)
            {
                switch (message)
                {
                    case ITestPassed passed:
                        Passed++;
                        Times.Add((passed.Test.DisplayName, (double)passed.ExecutionTime));
                        break;
                    case ITestFailed failed:
                        Failed++;
                        Times.Add((failed.Test.DisplayName, (double)failed.ExecutionTime));
                        output.WriteLine($"FAILED {failed.Test.DisplayName}: {Describe(failed)}");
                        break;
                    case ITestSkipped skipped:
                        Skipped++;
                        output.WriteLine($"skipped {skipped.Test.DisplayName}: {skipped.Reason}");
                        break;
                    case IFailureInformation failure:  // a fixture, class or collection that failed outside any one test
                        Failed++;
                        output.WriteLine($"FAILED ({message.GetType().Name}): {Describe(failure)}");
                        break;
                    case ITestAssemblyFinished finished:
                        Seconds = (double)finished.ExecutionTime;
                        Finished.Set();
                        break;
                }
            }
            return true;
        }

        public void Dispose() => Finished.Dispose();
    }

    /// <summary>Writes xunit's diagnostic messages; counts its error messages (a discovery that failed) as failures.</summary>
    private sealed class DiagnosticSink(TextWriter output) : Xunit.LongLivedMarshalByRefObject, IMessageSink
    {
        public int Errors { get; private set; }

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is IDiagnosticMessage diagnostic)
                output.WriteLine($"xunit: {diagnostic.Message}");
            else if (message is IErrorMessage error)
            {
                Errors++;
                output.WriteLine($"FAILED (xunit error): {Describe(error)}");
            }
            return true;
        }
    }

    /// <summary>The first exception's type and message, and the top of its stack.</summary>
    private static string Describe(IFailureInformation failure)
    {
        string type = failure.ExceptionTypes.FirstOrDefault() ?? "?", text = failure.Messages.FirstOrDefault() ?? "";
        var stack = (failure.StackTraces.FirstOrDefault() ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(4);
        return $"{type}: {text}" + string.Concat(stack.Select(line => "\n    " + line));
    }
}
