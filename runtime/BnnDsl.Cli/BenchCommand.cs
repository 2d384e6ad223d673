// `bnn bench MODEL.bnnx`: quick Stopwatch timing of a packed model, latency at batch 1 and throughput at batch 32, 1 and 2 threads.
using System.Diagnostics;
using System.Globalization;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime;

namespace BnnDsl.Cli;

/// <summary>Times <see cref="PackedRunner.Predict"/>: the median of several rounds after a warm-up.</summary>
internal static class BenchCommand
{
    public static int Run(string[] args, TextWriter output)
    {
        var arguments = Arguments.Parse(args, ["--rounds", "--seconds"], ["--json"]);
        if (arguments.Positional.Count != 1)
            throw new UsageException("bench takes one packed model");
        int rounds = arguments.Int("--rounds", 7, 1);
        double seconds = arguments.Positive("--seconds", 0.2);
        var model = PackedModel.Load(arguments.Positional[0]);
        var random = new Random(1);
        var rows = new List<(int Threads, double LatencyMs, double Throughput)>();
        output.WriteLine($"{arguments.Positional[0]} ({model.Network.Name}, {model.Network.Input} -> {model.OutputLength}), {Environment.ProcessorCount} cores");
        output.WriteLine("threads   batch-1 latency   batch-32 images/s");
        foreach (int threads in new[] { 1, 2 })
        {
            double latency = Median(1, rounds, seconds, model, threads, random) * 1000;
            double throughput = 32 / Median(32, rounds, seconds, model, threads, random);
            rows.Add((threads, latency, throughput));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{threads,7}   {latency,12:F3} ms   {throughput,17:N0}"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(quick Stopwatch timing, median of {rounds} rounds of ~{seconds:G3} s; the BenchmarkDotNet numbers are in docs/PERF.md)"));
        if (arguments.Has("--json"))
            output.WriteLine(JsonLine.Create(w =>
            {
                w.WriteString("command", "bench");
                w.WriteString("model", arguments.Positional[0]);
                foreach (var (threads, latency, throughput) in rows)
                {
                    w.WriteNumber($"latency_ms_batch1_threads{threads}", Math.Round(latency, 4));
                    w.WriteNumber($"images_per_s_batch32_threads{threads}", Math.Round(throughput));
                }
            }));
        return CommandLine.Success;
    }

    /// <summary>Median seconds per call of <see cref="PackedRunner.Predict"/> on <paramref name="batch"/> random samples.</summary>
    private static double Median(int batch, int rounds, double seconds, PackedModel model, int threads, Random random)
    {
        var input = new float[batch * model.InputLength];
        for (int i = 0; i < input.Length; i++)
            input[i] = random.NextSingle() * 3.2f - 0.42f;
        var logits = new float[batch * model.OutputLength];
        var session = model.CreateSession(batch, threads: threads);
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
