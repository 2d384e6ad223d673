// TestRunner (bnn-gpu-check --tests) runs xunit tests in process: here one class of this very assembly on the CPU
// accelerator, counted against the class's test methods; a test that fails on purpose, which must be reported as a
// failure with its message; and a filter that matches nothing, which must not pass.
using System.Reflection;
using BnnDsl.Testing;

namespace BnnDsl.Kernels.Gpu.Tests;

public class TestRunnerTests
{
    [Fact]
    public void RunsOneClassInProcessOnTheNamedDeviceAndRestoresTheVariable()
    {
        string? before = Environment.GetEnvironmentVariable(TestRunner.DeviceVariable);
        var output = new StringWriter();
        int code = TestRunner.Run([typeof(GpuAffineTests).Assembly], "ilgpu-cpu", nameof(GpuAffineTests), output);

        // Under ilgpu-cpu every [MemberData(Kinds)] theory has one row, so each test method is one test.
        int methods = typeof(GpuAffineTests).GetMethods().Count(m => m.GetCustomAttribute<FactAttribute>() is not null);
        Assert.True(methods >= 2);
        Assert.Equal(0, code);
        Assert.Contains($"gpu tests on ilgpu-cpu: {methods} passed, 0 failed, 0 skipped", output.ToString());
        Assert.Contains("ScaleShiftAndBiasMatchTheScalarFormulas(kind: Cpu)", output.ToString());  // the slowest list names it
        Assert.Equal(before, Environment.GetEnvironmentVariable(TestRunner.DeviceVariable));
    }

    [Fact]
    public void AFailingTestIsReportedWithItsMessageAndFailsTheRun()
    {
        var output = new StringWriter();
        int code;
        TestRunnerProbe.Armed = true;
        try
        {
            code = TestRunner.Run([typeof(TestRunnerProbe).Assembly], "ilgpu-cpu", nameof(TestRunnerProbe), output);
        }
        finally
        {
            TestRunnerProbe.Armed = false;
        }
        string text = output.ToString();
        Assert.Equal(1, code);
        Assert.Contains($"FAILED {typeof(TestRunnerProbe).FullName}.{nameof(TestRunnerProbe.FailsOnPurpose)}", text);
        Assert.Contains(TestRunnerProbe.Message, text);
        Assert.Contains("gpu tests on ilgpu-cpu: 1 passed, 1 failed, 0 skipped", text);
    }

    [Fact]
    public void AFilterThatMatchesNothingFails()
    {
        var output = new StringWriter();
        Assert.Equal(1, TestRunner.Run([typeof(GpuAffineTests).Assembly], "ilgpu-cpu", "NoSuchTestClass", output));
        Assert.Contains("gpu tests on ilgpu-cpu: 0 passed, 0 failed, 0 skipped", output.ToString());
    }
}

/// <summary>
/// Two tests for <see cref="TestRunnerTests"/> to run through the runner: one that passes and one that fails on purpose.
/// Both are skipped when discovered anywhere else (<c>dotnet test</c>, <c>bnn-gpu-check --tests</c>): the skip reason
/// is decided when xunit discovers them, and only TestRunnerTests arms the probe before its runner discovers them.
/// </summary>
public class TestRunnerProbe
{
    internal const string Message = "the runner probe failed on purpose";

    internal static volatile bool Armed;

    [ProbeFact]
    public void PassesOnPurpose() => Assert.True(Armed);

    [ProbeFact]
    public void FailsOnPurpose() => Assert.Fail(Message);

    /// <summary>A fact that is skipped unless the probe is armed when it is discovered.</summary>
    private sealed class ProbeFactAttribute : FactAttribute
    {
        public ProbeFactAttribute()
        {
            if (!Armed)
                Skip = "runs only inside TestRunnerTests, through the runner";
        }
    }
}
