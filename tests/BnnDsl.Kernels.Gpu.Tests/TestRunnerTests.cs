// TestRunner (bnn-gpu-check --tests) runs xunit tests in process: here one class of this very assembly on the CPU
// accelerator, counted against the class's test methods, and a filter that matches nothing, which must not pass.
using System.Reflection;
using BnnDsl.GpuCheck;

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
    public void AFilterThatMatchesNothingFails()
    {
        var output = new StringWriter();
        Assert.Equal(1, TestRunner.Run([typeof(GpuAffineTests).Assembly], "ilgpu-cpu", "NoSuchTestClass", output));
        Assert.Contains("gpu tests on ilgpu-cpu: 0 passed, 0 failed, 0 skipped", output.ToString());
    }
}
