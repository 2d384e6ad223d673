// The table the device check prints last: TOPS of XNOR GEMM, cuBLAS SGEMM and our SGEMM per shape, and their ratios.
using BnnDsl.Kernels.Gpu;

namespace BnnDsl.GpuCheck;

internal static class ResultTable
{
    /// <summary>Writes the table; "n/a" where cuBLAS could not run, with the reason below the table.</summary>
    public static void Write(TextWriter output, GpuDevice device, IReadOnlyList<GemmTiming> timings, bool smoke)
    {
        output.WriteLine();
        output.WriteLine($"GPU GEMM results on {device.Name} ({device.Kind}){(smoke ? ", smoke shapes" : "")}: TOPS = 2*M*N*K / s / 1e12, K in bits for XNOR");
        output.WriteLine($"{"shape",-28} {"M",8} {"N",6} {"K",6} | {"XNOR TOPS",9} {"tile",6} | {"cuBLAS",8} {"ours",8} | {"XNOR/cuBLAS",11} {"XNOR/ours",9}");
        foreach (var t in timings)
        {
            double xnor = GemmBenchmark.Tops(t.Shape, t.XnorSeconds), ours = GemmBenchmark.Tops(t.Shape, t.OursSeconds);
            double? cuBlas = t.CuBlasSeconds is double s ? GemmBenchmark.Tops(t.Shape, s) : null;
            string cuBlasText = cuBlas is double c ? Format(c) : "n/a";
            string cuBlasRatio = cuBlas is double r ? (xnor / r).ToString("F2") + "x" : "n/a";
            output.WriteLine($"{t.Shape.Name,-28} {t.Shape.M,8} {t.Shape.N,6} {t.Shape.K,6} | {Format(xnor),9} {t.XnorTile,6} | {cuBlasText,8} {Format(ours),8} | {cuBlasRatio,11} {xnor / ours,8:F2}x");
        }
        foreach (var note in timings.Select(t => t.CuBlasNote).Where(n => n is not null).Distinct())
            output.WriteLine($"cuBLAS n/a: {note}");
        output.WriteLine("LeNet training images/s: not measured (training on the device is not built yet; see docs/gpu.md)");
    }

    /// <summary>Two decimals, or three significant digits in exponent form below 0.01 (the CPU accelerator's tiny rates).</summary>
    internal static string Format(double tops) => tops >= 0.01 ? tops.ToString("F2") : tops.ToString("0.00E+0");
}
