// The table the device check prints last: TOPS of XNOR GEMM, cuBLAS SGEMM, our SGEMM and the binary convolution per shape, and ratios.
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.GpuCheck;

internal static class ResultTable
{
    /// <summary>Writes the table; "n/a" where cuBLAS could not run, with the reason below the table; the MNIST training line last when it ran.</summary>
    public static void Write(TextWriter output, GpuDevice device, IReadOnlyList<GemmTiming> timings, PackedInferenceTiming inference, TrainingTiming training, bool smoke,
        MnistTraining? mnist = null)
    {
        output.WriteLine();
        output.WriteLine($"GPU GEMM results on {device.Name} ({device.Kind}){(smoke ? ", smoke shapes" : "")}: TOPS = 2*M*N*K / s / 1e12, K in bits for XNOR");
        output.WriteLine("TC: XNOR GEMM on the 1-bit tensor cores (mma.sync m16n8k256 .b1 AND + popcount through inline PTX; emulated on the CPU accelerator; n/a before compute capability 8.0)");
        output.WriteLine("conv: binary 3x3 convolution with implicit im2col (int32 out, zero padding), ->bits: its threshold-bits output; conv/cuBLAS: against cuBLAS SGEMM on the im2col GEMM of the row");
        output.WriteLine($"{"shape",-28} {"M",8} {"N",6} {"K",6} | {"XNOR TOPS",9} {"tile",6} | {"cuBLAS",8} {"ours",8} | {"XNOR/cuBLAS",11} {"XNOR/ours",9} | {"TC TOPS",8} {"TC/cuBLAS",9} | {"conv",8} {"->bits",8} {"conv/cuBLAS",11}");
        foreach (var t in timings)
        {
            double xnor = GemmBenchmark.Tops(t.Shape, t.XnorSeconds), ours = GemmBenchmark.Tops(t.Shape, t.OursSeconds);
            double? cuBlas = t.CuBlasSeconds is double s ? GemmBenchmark.Tops(t.Shape, s) : null;
            string cuBlasText = cuBlas is double c ? Format(c) : "n/a";
            string cuBlasRatio = cuBlas is double r ? (xnor / r).ToString("F2") + "x" : "n/a";
            string tensorCore = "n/a", tensorCoreRatio = "n/a";
            if (t.TensorCoreSeconds is double tc)
            {
                double tcTops = GemmBenchmark.Tops(t.Shape, tc);
                tensorCore = Format(tcTops);
                tensorCoreRatio = cuBlas is double r3 ? (tcTops / r3).ToString("F2") + "x" : "n/a";
            }
            string conv = "-", convBits = "-", convRatio = "-";
            if (t.Convolution is ConvTiming convolution)
            {
                double convTops = GemmBenchmark.Tops(t.Shape, convolution.Int32Seconds);
                conv = Format(convTops);
                convBits = Format(GemmBenchmark.Tops(t.Shape, convolution.BitsSeconds));
                convRatio = cuBlas is double r2 ? (convTops / r2).ToString("F2") + "x" : "n/a";
            }
            output.WriteLine($"{t.Shape.Name,-28} {t.Shape.M,8} {t.Shape.N,6} {t.Shape.K,6} | {Format(xnor),9} {t.XnorTile,6} | {cuBlasText,8} {Format(ours),8} | {cuBlasRatio,11} {xnor / ours,8:F2}x | {tensorCore,8} {tensorCoreRatio,9} | {conv,8} {convBits,8} {convRatio,11}");
        }
        foreach (var note in timings.Select(t => t.CuBlasNote).Where(n => n is not null).Distinct())
            output.WriteLine($"cuBLAS n/a: {note}");
        output.WriteLine($"LeNet packed inference images/s at batch {inference.Batch}: device {inference.DeviceImagesPerSecond:N0}, CPU interpreter ({Environment.ProcessorCount} cores) {inference.CpuImagesPerSecond:N0}, device/CPU {inference.DeviceImagesPerSecond / inference.CpuImagesPerSecond:F2}x");
        output.WriteLine($"LeNet training images/s: {training.ImagesPerSecond:F0} ({training.Network}, batch {training.Batch}, {training.Steps} steps of DeviceNetwork.TrainStep: batch up, forward, loss, backward, Adam, loss down)");
        if (mnist is not null)
            output.WriteLine($"LeNet MNIST, {mnist.Epochs} epoch(s) of {mnist.Samples} images: test accuracy device {mnist.DeviceAccuracy:P2} in {mnist.DeviceSeconds:F1} s, CPU ({Environment.ProcessorCount} cores) {mnist.CpuAccuracy:P2} in {mnist.CpuSeconds:F1} s{(mnist.Agrees ? "" : " (NOT within 0.5 points)")}");
    }

    /// <summary>Two decimals, or three significant digits in exponent form below 0.01 (the CPU accelerator's tiny rates).</summary>
    internal static string Format(double tops) => tops >= 0.01 ? tops.ToString("F2") : tops.ToString("0.00E+0");
}
