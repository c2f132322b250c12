using System.Runtime.CompilerServices;

namespace TaskSupervision.Tests;

/// <summary>Measures process-wide memory, so it runs alone.</summary>
[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection
{
}

[Collection(nameof(MemoryCollection))]
public sealed class MemoryTests
{
    [Fact]
    public async Task FinishedTasks_AreForgotten_HandlesAreCollectable()
    {
        await using var harness = new Harness();
        WeakReference[] handles = StartAndForget(harness.Supervisor, 1000);
        await harness.Supervisor.WhenIdleAsync().Within();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // A thread-pool worker may still hold its last work item in a stack slot until it runs another one: that is the
        // runtime's, not a leak, and a handful at most (one per worker). A supervisor that kept finished tasks would keep
        // all 1,000.
        handles.Count(h => h.IsAlive).Should().BeLessThan(50, "the supervisor keeps no finished task");
        harness.Supervisor.GetSnapshot().Should().BeEmpty();
    }

    [Fact]
    public async Task MillionFinishedTasks_MemoryReturnsToWithinASmallBoundOfTheStart()
    {
        await using var supervisor = new TaskSupervisor();
        var options = new TaskOptions { Name = "tiny" };
        await RunBatches(supervisor, options, 10_000); // warm up the pool and the JIT
        long before = GC.GetTotalMemory(forceFullCollection: true);

        await RunBatches(supervisor, options, 1_000_000);
        long after = GC.GetTotalMemory(forceFullCollection: true);

        supervisor.Count.Should().Be(0);
        // A leak of even 4 bytes per task would show as 4 MB; what remains is the runtime's own growth (pool threads, JIT).
        (after - before).Should().BeLessThan(4 * 1024 * 1024, "1,000,000 finished tasks leave nothing behind");
    }

    private static async Task RunBatches(TaskSupervisor supervisor, TaskOptions options, int total)
    {
        const int Batch = 10_000;
        for (int done = 0; done < total; done += Batch)
        {
            for (int i = 0; i < Batch; i++)
            {
                supervisor.Run(static _ => Task.CompletedTask, options);
            }

            await supervisor.WhenIdleAsync().Within();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] StartAndForget(TaskSupervisor supervisor, int count)
    {
        var handles = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            handles[i] = new WeakReference(i % 2 == 0
                ? supervisor.Run($"key:{i}", static _ => Task.FromResult(new byte[1024]))
                : supervisor.Run(static async _ => { await Task.Yield(); throw new InvalidOperationException("dropped"); }));
        }

        return handles;
    }
}
