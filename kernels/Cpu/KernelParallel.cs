// A small persistent thread pool for kernels: splits work items across cores without allocating per call.
using System.Runtime.CompilerServices;

namespace BnnDsl.Kernels.Cpu;

/// <summary>One parallel kernel call: <see cref="Run"/> executes work item <c>index</c>.</summary>
public interface IParallelJob
{
    /// <summary>Executes work item <paramref name="index"/>; items are independent of each other.</summary>
    void Run(int index);
}

/// <summary>
/// Runs the work items of a kernel on up to <see cref="MaxThreads"/> threads: the calling thread plus
/// persistent background workers. A call allocates nothing (the job is a struct that stays on the caller's
/// stack while the caller takes part in the work and waits for the rest). When another call already holds
/// the workers, the second caller runs its items alone instead of waiting. The workers (one fewer than
/// <see cref="MaxThreads"/>, asleep until a call wakes them) are created when the class is first used, all at once:
/// created on demand, they were allocated by the first call to get the workers, which could come after calls that ran
/// alone, so whether a steady-state call allocated nothing depended on which calls ran beside it.
/// </summary>
public static unsafe class KernelParallel
{
    /// <summary>The most threads a kernel uses: one per core.</summary>
    public static int MaxThreads { get; } = Math.Max(1, Environment.ProcessorCount);

    private static int busy; // 1 while a call holds the workers (not reentrant, unlike a Monitor)
    private static readonly Worker[] workers = [.. Enumerable.Range(0, MaxThreads - 1).Select(id => new Worker(id))];

    /// <summary>The background workers, all created with the class: <see cref="MaxThreads"/> − 1.</summary>
    internal static int WorkerCount => workers.Length;

    // The call in flight (valid while busy is 1).
    private static void* jobPointer;
    private static delegate*<void*, int, void> jobInvoker;
    private static int itemCount;
    private static int nextItem;
    private static int activeWorkers;
    private static Exception? firstError;

    /// <summary>
    /// Runs <c>job.Run(i)</c> for every i in [0, <paramref name="count"/>) on at most <paramref name="threads"/>
    /// threads (0 or less: <see cref="MaxThreads"/>), and returns when all are done. An exception from any item is
    /// rethrown here.
    /// </summary>
    public static void For<TJob>(int count, int threads, ref TJob job) where TJob : struct, IParallelJob
    {
        if (count <= 0)
            return;
        int wanted = threads <= 0 ? MaxThreads : Math.Min(threads, MaxThreads);
        wanted = Math.Min(wanted, count);
        if (wanted <= 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++)
                job.Run(i);
            return;
        }

        try
        {
            TJob local = job;
            jobPointer = Unsafe.AsPointer(ref local);
            jobInvoker = &Invoke<TJob>;
            itemCount = count;
            nextItem = 0;
            firstError = null;
            Volatile.Write(ref activeWorkers, wanted - 1);
            for (int w = 0; w < wanted - 1; w++)
                workers[w].Start();

            RunItems();

            var spin = new SpinWait();
            while (Volatile.Read(ref activeWorkers) != 0)
                spin.SpinOnce(sleep1Threshold: -1);

            jobPointer = null;
            if (firstError is { } error)
                throw new AggregateException("A kernel work item failed.", error);
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    private static void Invoke<TJob>(void* job, int index) where TJob : struct, IParallelJob
        => Unsafe.AsRef<TJob>(job).Run(index);

    private static void RunItems()
    {
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref nextItem) - 1) < itemCount)
                jobInvoker(jobPointer, i);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref firstError, e, null);
            Volatile.Write(ref nextItem, itemCount);
        }
    }

    /// <summary>A background thread that spins briefly after each job (layers come back to back), then sleeps.</summary>
    private sealed class Worker
    {
        private readonly ManualResetEventSlim wake = new(false, spinCount: 2000);

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"BnnDsl kernel worker {id}" };
            thread.Start();
        }

        public void Start() => wake.Set();

        private void Loop()
        {
            while (true)
            {
                wake.Wait();
                wake.Reset();
                RunItems();
                Interlocked.Decrement(ref activeWorkers);
            }
        }
    }
}
