// --mnist DIR: the binary LeNet trained on MNIST on the device and on the CPU with the same seed and recipe, so a GPU
// run shows that device training reaches the CPU's accuracy (issue 7), with both test accuracies and times.
using System.Diagnostics;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Data;
using BnnDsl.Runtime.Devices;
using BnnDsl.Runtime.Networks;
using BnnDsl.Runtime.Training;

namespace BnnDsl.GpuCheck;

/// <summary>One LeNet MNIST run on the device and one on the CPU: test accuracy after the last epoch and seconds each.</summary>
internal sealed record MnistTraining(int Epochs, int Samples, double DeviceAccuracy, double DeviceSeconds, double CpuAccuracy, double CpuSeconds)
{
    /// <summary>The largest gap in test accuracy between the two runs that counts as the same accuracy: half a point.</summary>
    public const double Tolerance = 0.005;

    /// <summary>Whether the device run's accuracy is the CPU run's within <see cref="Tolerance"/>.</summary>
    public bool Agrees => Math.Abs(DeviceAccuracy - CpuAccuracy) <= Tolerance;
}

internal static class LeNetMnistCheck
{
    /// <summary>
    /// Trains examples/LeNet's network (batch 128, Adam 0.003 with a cosine schedule, 2-pixel random shifts: the main
    /// job's recipe) for <paramref name="epochs"/> on the MNIST files in <paramref name="directory"/>, the first
    /// <paramref name="samples"/> training images (all when 0), through <see cref="DeviceTrainer"/> on the device and
    /// on the CPU (all cores), same seed, then writes the check line: ok when the two test accuracies (all 10,000 test
    /// images) are within <see cref="MnistTraining.Tolerance"/>. Float rounding differs between the two (other
    /// summation orders), so the runs are not equal step for step; their accuracy must be.
    /// </summary>
    /// <exception cref="DataFormatException">The directory does not hold the four MNIST files.</exception>
    public static MnistTraining Run(GpuDeviceKind kind, string directory, int epochs, int samples, TextWriter output)
        => Run(kind == GpuDeviceKind.Cuda ? ComputeDeviceKind.Cuda : ComputeDeviceKind.IlgpuCpu, directory, epochs, samples,
            LeNetTrainingBenchmark.LeNet(), 128, output);

    /// <summary>
    /// <see cref="Run(GpuDeviceKind, string, int, int, TextWriter)"/> with the first run on <paramref name="device"/>
    /// (any kind: the tests run the orchestration with the host on both sides, since a 28×28 network takes tens of
    /// seconds per step on the CPU accelerator; DeviceTrainerTests covers device training itself), another network
    /// for 1×28×28 inputs and another batch size.
    /// </summary>
    internal static MnistTraining Run(ComputeDeviceKind device, string directory, int epochs, int samples, NetworkSpec spec, int batch, TextWriter output)
    {
        var mnist = MnistDataSet.Load(directory);
        var train = samples > 0 && samples < mnist.Train.Count ? First(mnist.Train, samples) : mnist.Train;
        var (deviceAccuracy, deviceSeconds) = Train(device, spec, batch, train, mnist.Test, epochs, output);
        var (cpuAccuracy, cpuSeconds) = Train(ComputeDeviceKind.Cpu, spec, batch, train, mnist.Test, epochs, output);
        var result = new MnistTraining(epochs, train.Count, deviceAccuracy, deviceSeconds, cpuAccuracy, cpuSeconds);
        output.WriteLine($"check LeNet MNIST training on the device reaches the CPU's test accuracy ({deviceAccuracy:P2} vs {cpuAccuracy:P2}, within {MnistTraining.Tolerance:P1}): {(result.Agrees ? "ok" : "FAILED")}");
        return result;
    }

    /// <summary>The first <paramref name="count"/> images and labels of <paramref name="set"/>, normalized as the whole set.</summary>
    internal static LabeledImages First(LabeledImages set, int count)
    {
        var images = set.Images;
        var pixels = images.Pixels.AsSpan(0, count * images.ValuesPerImage).ToArray();
        return new LabeledImages(new ImageSet(count, images.Rows, images.Columns, images.Channels, pixels, images.Mean, images.Std),
            new IdxLabels(set.Labels.Labels[..count], set.Labels.ClassCount));
    }

    private static (double Accuracy, double Seconds) Train(ComputeDeviceKind kind, NetworkSpec spec, int batch, LabeledImages train,
        LabeledImages test, int epochs, TextWriter output)
    {
        var network = new SpecNetwork(spec, batch);
        network.Initialize(1);
        var options = new TrainerOptions
        {
            Epochs = epochs,
            Seed = 1,
            LearningRate = 3e-3f,
            Schedule = "cosine",
            MaxShift = 2,
            OutputDirectory = Directory.CreateTempSubdirectory("bnn-gpu-check-mnist-").FullName,
        };
        try
        {
            using var device = ComputeDevice.Open(kind);
            var clock = Stopwatch.StartNew();
            var result = DeviceTrainer.Create(network, train, test, options, device).Run();
            double seconds = clock.Elapsed.TotalSeconds, accuracy = result.Epochs[^1].TestAccuracy;
            output.WriteLine($"  {spec.Name} MNIST on {device.Description}: {epochs} epoch(s) of {train.Count} images, test accuracy {accuracy:P2}, {seconds:F1} s");
            return (accuracy, seconds);
        }
        finally
        {
            Directory.Delete(options.OutputDirectory, recursive: true);
        }
    }
}
