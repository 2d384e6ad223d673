// Device names and opening: what --device accepts, and the typed errors for the rest.
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Runtime.Gpu.Tests;

public sealed class ComputeDeviceTests
{
    [Theory]
    [InlineData("cpu", ComputeDeviceKind.Cpu)]
    [InlineData("CUDA", ComputeDeviceKind.Cuda)]
    [InlineData(" ilgpu-cpu ", ComputeDeviceKind.IlgpuCpu)]
    public void Parse_reads_every_name(string name, ComputeDeviceKind expected) =>
        Assert.Equal(expected, ComputeDevice.Parse(name));

    [Fact]
    public void Parse_names_the_choices_for_a_typo()
    {
        var error = Assert.Throws<ArgumentException>(() => ComputeDevice.Parse("cdua"));
        Assert.Contains("'cdua'", error.Message);
        Assert.Contains(ComputeDevice.Names, error.Message);
    }

    [Fact]
    public void Every_present_kind_opens_and_round_trips_its_name()
    {
        foreach (var kind in ComputeDevice.Present)
        {
            using var device = ComputeDevice.Open(kind);
            Assert.Equal(kind, device.Kind);
            Assert.Equal(kind == ComputeDeviceKind.Cpu, device.IsHost);
            Assert.Equal(kind, ComputeDevice.Parse(ComputeDevice.NameOf(kind)));
            Assert.StartsWith(ComputeDevice.NameOf(kind), device.Description);
        }
    }

    [Fact]
    public void Cuda_without_a_gpu_is_a_typed_error_naming_the_fix()
    {
        if (ComputeDevice.Present.Contains(ComputeDeviceKind.Cuda))
            return;
        var error = Assert.Throws<DeviceUnavailableException>(() => ComputeDevice.Open("cuda"));
        Assert.Contains("--device cpu", error.Message);
    }

    [Fact]
    public void The_host_device_has_no_accelerator()
    {
        using var device = ComputeDevice.Open(ComputeDeviceKind.Cpu);
        Assert.Throws<InvalidOperationException>(() => device.Gpu);
    }
}
