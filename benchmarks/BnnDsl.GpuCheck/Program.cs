// Entry point of bnn-gpu-check: see GpuCheck for the arguments.
using BnnDsl.GpuCheck;

return GpuCheck.Run(args, Console.Out);
