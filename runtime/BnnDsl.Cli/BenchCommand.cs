// `bnn bench MODEL.bnnx`: quick Stopwatch timing of a packed model, latency at batch 1 and throughput at batch 32, with
// 1 and 2 threads on the CPU or on the device --device names.
using System.Diagnostics;
using System.Globalization;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime;
using BnnDsl.Runtime.Devices;

namespace BnnDsl.Cli;

/// <summary>Times <see cref="IPackedPredictor.Predict"/>: the median of several rounds after a warm-up.</summary>
internal static class BenchCommand
{
    public static int Run(string[] args, TextWriter output)
    {
        var arguments = Arguments.Parse(args, ["--rounds", "--seconds", DeviceOption.Name], ["--json"]);
        if (arguments.Positional.Count != 1)
            throw new UsageException("bench takes one packed model");
        int rounds = arguments.Int("--rounds", 7, 1);
        double seconds = arguments.Positive("--seconds", 0.2);
        using var device = DeviceOption.Open(arguments);
        var model = PackedModel.Load(arguments.Positional[0]);
        var random = new Random(1);
        var rows = new List<(int Threads, double LatencyMs, double Throughput)>();
        output.WriteLine($"{arguments.Positional[0]} ({model.Network.Name}, {model.Network.Input} -> {model.OutputLength}), {device.Description}");
        output.WriteLine(device.IsHost ? "threads   batch-1 latency   batch-32 images/s" : "device    batch-1 latency   batch-32 images/s");
        // the threads run the CPU kernels; a device session runs once (0 stands for "the device" in the rows)
        foreach (int threads in device.IsHost ? new[] { 1, 2 } : [0])
        {
            double latency = Median(1, rounds, seconds, model, device, threads, random) * 1000;
            double throughput = 32 / Median(32, rounds, seconds, model, device, threads, random);
            rows.Add((threads, latency, throughput));
            string runner = device.IsHost ? threads.ToString(CultureInfo.InvariantCulture) : ComputeDevice.NameOf(device.Kind);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{runner,7}   {latency,12:F3} ms   {throughput,17:N0}"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(quick Stopwatch timing, median of {rounds} rounds of ~{seconds:G3} s; the BenchmarkDotNet numbers are in docs/PERF.md)"));
        if (arguments.Has("--json"))
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "bench");
                w.WriteString("model", arguments.Positional[0]);
                w.WriteString("device", ComputeDevice.NameOf(device.Kind));
                foreach (var (threads, latency, throughput) in rows)
                {
                    string suffix = device.IsHost ? string.Create(CultureInfo.InvariantCulture, $"_threads{threads}") : "";
                    w.WriteNumber($"latency_ms_batch1{suffix}", Math.Round(latency, 4));
                    w.WriteNumber($"images_per_s_batch32{suffix}", Math.Round(throughput));
                }
            }));
        return CommandLine.Success;
    }

    /// <summary>Median seconds per call of <see cref="IPackedPredictor.Predict"/> on <paramref name="batch"/> random samples.</summary>
    private static double Median(int batch, int rounds, double seconds, PackedModel model, ComputeDevice device, int threads, Random random)
    {
        var input = new float[batch * model.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = random.NextSingle() * 3.2f - 0.42f;
        var logits = new float[batch * model.OutputLength];
        var session = Predictors.Open(model, device, batch, threads);
        using (session as IDisposable)
        {
            session.Predict(input, batch, logits);
            var clock = Stopwatch.StartNew();
            int calls = 0;
            while (clock.Elapsed.TotalSeconds < seconds / 2)
            {
                session.Predict(input, batch, logits);
                calls++;
            }
            int perRound = Math.Max(1, (int)(calls * seconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            var times = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                clock.Restart();
                for (int i = 0; i < perRound; i++)
                    session.Predict(input, batch, logits);
                times[r] = clock.Elapsed.TotalSeconds / perRound;
            }
            Array.Sort(times);
            return times[rounds / 2];
        }
    }
}
