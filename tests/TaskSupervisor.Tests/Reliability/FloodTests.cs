using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace TaskSupervision.Tests.Reliability;

/// <summary>
/// A flood of starts against a supervisor whose running tasks never end until released. With a pending bound the excess
/// is refused and what is tracked stays bounded; without one the queue, and memory, grow with every start.
/// </summary>
/// <remarks>Measures process-wide memory, so it runs alone, with <see cref="MemoryTests"/>.</remarks>
[Collection(nameof(MemoryCollection))]
public sealed class FloodTests(ITestOutputHelper output)
{
    private const int MaxConcurrency = 4;
    private const int MaxPending = 100;
    private const int Attempts = 100_000;
    private const int Threads = 4;

    [Fact]
    public async Task Flood_WithAPendingBound_RefusesTheExcess_AndNeverTracksMoreThanTheBound()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = MaxConcurrency; o.MaxPending = MaxPending; });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<CancellationToken, Task> work = _ => gate.Task;
        var options = new TaskOptions { Name = "flood" };
        int accepted = 0, refusedByRun = 0, refusedByTryRun = 0, maxTracked = 0;
        long before = GC.GetTotalMemory(forceFullCollection: true);

        Task[] flooders = Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < Attempts / Threads; i++)
            {
                if (i % 2 == 0)
                {
                    try
                    {
                        harness.Supervisor.Run(work, options);
                        Interlocked.Increment(ref accepted);
                    }
                    catch (SupervisorQueueFullException ex) when (ex.MaxPending == MaxPending)
                    {
                        Interlocked.Increment(ref refusedByRun);
                    }
                }
                else if (harness.Supervisor.TryRun(work, out _, out _, options))
                {
                    Interlocked.Increment(ref accepted);
                }
                else
                {
                    Interlocked.Increment(ref refusedByTryRun);
                }

                int tracked = harness.Supervisor.Count;
                int seen = Volatile.Read(ref maxTracked);
                while (tracked > seen && Interlocked.CompareExchange(ref maxTracked, tracked, seen) != seen)
                {
                    seen = Volatile.Read(ref maxTracked);
                }
            }
        })).ToArray();
        await Task.WhenAll(flooders).Within();
        long during = GC.GetTotalMemory(forceFullCollection: true);

        output.WriteLine($"{Attempts} attempted starts: {accepted} accepted, {refusedByRun} refused by Run, {refusedByTryRun} by TryRun; " +
            $"at most {maxTracked} tracked; retained {during - before} bytes");
        accepted.Should().Be(MaxConcurrency + MaxPending, "nothing ends while the gate is shut, so exactly the bound is accepted");
        (refusedByRun + refusedByTryRun).Should().Be(Attempts - accepted);
        maxTracked.Should().BeLessThanOrEqualTo(MaxConcurrency + MaxPending);
        harness.Supervisor.PendingCount.Should().Be(MaxPending);
        // Process-wide and so a little noisy (measured: 0.1 to 1.5 MB); the same flood without a bound retains 40 MB and more.
        (during - before).Should().BeLessThan(4 * 1024 * 1024, "a refused start leaves nothing behind; only the bound's tasks are held");

        gate.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.PendingCount.Should().Be(0);
    }

    [Fact]
    public async Task Flood_OfRunAsyncCallers_WithAPendingBound_WaitsForRoom_AndNeverTracksMoreThanTheBound()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = MaxConcurrency; o.MaxPending = MaxPending; });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int ran = 0;
        Func<CancellationToken, Task> work = async _ => { await gate.Task; Interlocked.Increment(ref ran); };

        // 1,000 callers: the first 104 are admitted at once, the rest wait for room instead of growing the queue.
        ValueTask<SupervisedTask>[] callers = Enumerable.Range(0, 1_000).Select(_ => harness.Supervisor.RunAsync(work)).ToArray();
        harness.Supervisor.Count.Should().Be(MaxConcurrency + MaxPending);
        callers.Count(c => c.IsCompleted).Should().Be(MaxConcurrency + MaxPending);

        int maxTracked = 0;
        Task all = Task.WhenAll(callers.Select(async caller =>
        {
            await caller; // admitted: sample what is tracked right after each admission
            int tracked = harness.Supervisor.Count;
            int seen;
            while (tracked > (seen = Volatile.Read(ref maxTracked)) && Interlocked.CompareExchange(ref maxTracked, tracked, seen) != seen)
            {
            }
        }));
        gate.SetResult();

        await all.Within();
        await harness.Supervisor.WhenIdleAsync().Within();
        maxTracked.Should().BeLessThanOrEqualTo(MaxConcurrency + MaxPending);
        ran.Should().Be(1_000, "every caller's work ran once room was made");
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task Flood_WithoutAPendingBound_AcceptsEveryStart_AndTheQueueAndMemoryGrowWithEachOne()
    {
        await using var harness = new Harness(o => o.MaxConcurrency = MaxConcurrency);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new TaskOptions { Name = "flood" };
        long before = GC.GetTotalMemory(forceFullCollection: true);

        StartMany(harness.Supervisor, _ => gate.Task, options, Attempts);
        long during = GC.GetTotalMemory(forceFullCollection: true);

        double perTask = (during - before) / (double)Attempts;
        output.WriteLine($"{Attempts} starts without a bound: {harness.Supervisor.Count} tracked, {harness.Supervisor.PendingCount} pending, " +
            $"retained {during - before} bytes = {perTask:0} bytes per pending task");
        harness.Supervisor.Count.Should().Be(Attempts, "nothing is refused");
        harness.Supervisor.PendingCount.Should().Be(Attempts - MaxConcurrency);
        perTask.Should().BeGreaterThan(100, "each pending task holds its handle, its delegate and its queue node");

        gate.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();
        harness.Supervisor.Count.Should().Be(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StartMany(TaskSupervisor supervisor, Func<CancellationToken, Task> work, TaskOptions options, int count)
    {
        for (int i = 0; i < count; i++)
        {
            supervisor.Run(work, options); // the handle is dropped: the supervisor alone keeps the task
        }
    }
}
