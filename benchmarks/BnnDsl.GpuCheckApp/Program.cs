// Entry point of bnn-gpu-check: the device check (GpuCheck: kernel checks, timings, the table), or with
// --tests [cuda|ilgpu-cpu [CLASS]] the GPU test assemblies run in this process on that device (TestRunner; default
// cuda), only the test classes whose name contains CLASS when it is given.
using BnnDsl.GpuCheck;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Testing;

if (args.Length > 0 && args[0] == "--tests")
{
    string device = args.Length > 1 ? args[1] : "cuda";
    if (args.Length > 3 || device is not ("cuda" or "ilgpu-cpu"))
    {
        Console.WriteLine("usage: bnn-gpu-check --tests [cuda|ilgpu-cpu [CLASS]]   (the GPU test assemblies on that device, default cuda; CLASS: only test classes whose name contains it)");
        return 2;
    }
    if (device == "cuda" && !GpuDevice.IsCudaPresent)
    {
        Console.WriteLine("bnn-gpu-check --tests: no CUDA device found (no NVIDIA driver or no GPU); pass 'ilgpu-cpu' to run the tests on the CPU accelerator.");
        return 2;
    }
    // The GPU test assemblies, by a public test class of each.
    return TestRunner.Run([typeof(BnnDsl.Kernels.Gpu.Tests.GpuXnorGemmTests).Assembly, typeof(BnnDsl.Runtime.Gpu.Tests.DeviceNetworkTests).Assembly],
        device, args.Length > 2 ? args[2] : null, Console.Out);
}
return GpuCheck.Run(args, Console.Out);
