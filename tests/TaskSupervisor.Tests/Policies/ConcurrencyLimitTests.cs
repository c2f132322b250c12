using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TaskSupervision.Tests.Policies;

public sealed class ConcurrencyLimitTests
{
    [Fact]
    public async Task TasksBeyondTheLimit_WaitAsPending_AndStartInOrder()
    {
        await using var harness = new Harness(o => o.MaxConcurrency = 2);
        var gates = Enumerable.Range(0, 5).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var startOrder = new List<int>();
        var tasks = new SupervisedTask[5];
        for (int i = 0; i < 5; i++)
        {
            int n = i;
            tasks[i] = harness.Supervisor.Run(_ => { lock (startOrder) startOrder.Add(n); return gates[n].Task; });
        }

        await harness.Time.AdvanceUntil(() => tasks[0].Status == SupervisedTaskStatus.Running && tasks[1].Status == SupervisedTaskStatus.Running, TimeSpan.Zero);
        harness.Supervisor.PendingCount.Should().Be(3);
        harness.Supervisor.GetSnapshot().Count(i => i.Status == SupervisedTaskStatus.Pending).Should().Be(3);

        for (int i = 0; i < 5; i++)
        {
            gates[i].SetResult();
            await tasks[i].Task.Within();

            // The slot is given back before the handle completes, so the next queued task is already on its way: let it
            // start before the next slot frees, so that the order seen is the queue's, not the thread pool's.
            int started = Math.Min(i + 3, 5);
            await harness.Time.AdvanceUntil(() => { lock (startOrder) return startOrder.Count >= started; }, TimeSpan.Zero);
        }

        // The first two got run slots at once and raced to the thread pool; the queued ones started in order.
        startOrder.Take(2).Should().BeEquivalentTo([0, 1]);
        startOrder.Skip(2).Should().Equal(2, 3, 4);
        harness.Supervisor.PendingCount.Should().Be(0);
    }

    [Fact]
    public async Task QueueFull_RunThrows_TryRunReturnsFalse_RunAsyncWaitsForRoom()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 1; });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask running = harness.Supervisor.Run(_ => release.Task);
        SupervisedTask queued = harness.Supervisor.Run(_ => Task.CompletedTask);

        harness.Supervisor.Invoking(s => s.Run(_ => Task.CompletedTask)).Should().Throw<SupervisorQueueFullException>().Which.MaxPending.Should().Be(1);
        harness.Supervisor.TryRun(_ => Task.CompletedTask, out SupervisedTask? refused, out StartRefusal why).Should().BeFalse();
        refused.Should().BeNull();
        why.Should().Be(StartRefusal.QueueFull);
        harness.Supervisor.TryRun("k", _ => Task.CompletedTask, out SupervisedTask? keyed, out StartRefusal keyedWhy).Should().BeFalse();
        (keyed, keyedWhy).Should().Be((null, StartRefusal.QueueFull));
        ValueTask<SupervisedTask> waiting = harness.Supervisor.RunAsync(_ => Task.CompletedTask);
        waiting.IsCompleted.Should().BeFalse();
        harness.Supervisor.Count.Should().Be(2, "refused starts are not tracked");

        release.SetResult();

        SupervisedTask late = await waiting.AsTask().Within();
        await late.Task.Within();
        queued.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task RunAsync_TokenCancelledWhileWaitingForRoom_ThrowsWithThatToken_AndStartsNothing()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);
        using var stop = new CancellationTokenSource();
        bool ran = false;

        Task<SupervisedTask> waiting = harness.Supervisor.RunAsync(_ => { ran = true; return Task.CompletedTask; }, cancellationToken: stop.Token).AsTask();
        stop.Cancel();

        (await waiting.Awaiting(t => t.Within()).Should().ThrowAsync<OperationCanceledException>()).Which.CancellationToken.Should().Be(stop.Token);
        release.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();
        ran.Should().BeFalse();
    }

    [Fact]
    public async Task CancellingAPendingTask_RemovesItWithoutRunning_AndRunsItsCallbacks()
    {
        await using var harness = new Harness(o => o.MaxConcurrency = 1);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);
        bool ran = false;
        var ended = new TaskCompletionSource<SupervisedTaskStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask pending = harness.Supervisor.Run(_ => { ran = true; return Task.CompletedTask; }, new TaskOptions { OnEnded = e => ended.SetResult(e.Status) });

        pending.Cancel();

        (await ended.Task.Within()).Should().Be(SupervisedTaskStatus.Canceled);
        harness.Supervisor.PendingCount.Should().Be(0);
        ran.Should().BeFalse();
        release.SetResult();
    }

    [Fact]
    public async Task Drain_CancelsPendingTasksWithoutStartingThem()
    {
        int callbacks = 0;
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.OnTaskEnded = _ => Interlocked.Increment(ref callbacks); });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        await started.Task.Within();
        int ran = 0;
        SupervisedTask[] pending = Enumerable.Range(0, 3).Select(_ => harness.Supervisor.Run(_ => { Interlocked.Increment(ref ran); return Task.CompletedTask; })).ToArray();

        DrainReport report = await harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(5)).Within();

        report.IsComplete.Should().BeTrue();
        ran.Should().Be(0);
        pending.Should().OnlyContain(t => t.Status == SupervisedTaskStatus.Canceled);
        callbacks.Should().Be(4);
    }

    [Fact]
    public async Task EnqueueByKey_RunsOneAtATime_InOrder_WithoutCancellingAnything()
    {
        await using var harness = new Harness();
        var enqueue = new TaskOptions { IfKeyRunning = KeyConflictBehavior.Enqueue };
        int running = 0, maxRunning = 0;
        var order = new List<int>();
        var tasks = new List<SupervisedTask>();
        for (int i = 0; i < 4; i++)
        {
            int n = i;
            tasks.Add(harness.Supervisor.Run("cache-rebuild", async ct =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref maxRunning, now);
                await Task.Yield();
                lock (order) order.Add(n);
                Interlocked.Decrement(ref running);
            }, enqueue));
        }

        await Task.WhenAll(tasks.Select(t => t.Task)).Within();

        order.Should().Equal(0, 1, 2, 3);
        maxRunning.Should().Be(1);
        tasks.Should().OnlyContain(t => t.Status == SupervisedTaskStatus.RanToCompletion && !t.IsCancellationRequested);
    }

    [Fact]
    public async Task Stress_NeverMoreThanTheLimitRunning_AndEveryTaskEndsOnce()
    {
        const int Limit = 3;
        int ends = 0;
        await using var harness = new Harness(o => { o.MaxConcurrency = Limit; o.MaxPending = 50; o.OnTaskEnded = _ => Interlocked.Increment(ref ends); });
        int running = 0, maxRunning = 0, started = 0;

        Task[] threads = Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 500; i++)
            {
                Func<CancellationToken, Task> work = async ct =>
                {
                    InterlockedMax(ref maxRunning, Interlocked.Increment(ref running));
                    await Task.Yield();
                    Interlocked.Decrement(ref running);
                };
                SupervisedTask task = i % 3 == 0
                    ? await harness.Supervisor.RunAsync(work)
                    : harness.Supervisor.TryRun(work, out SupervisedTask? s, out _) ? s : await harness.Supervisor.RunAsync(work);
                Interlocked.Increment(ref started);
                if (i % 7 == 0)
                {
                    task.Cancel();
                }
            }
        })).ToArray();
        await Task.WhenAll(threads).Within();
        await harness.Supervisor.WhenIdleAsync().Within();

        maxRunning.Should().BeLessThanOrEqualTo(Limit);
        ends.Should().Be(started);
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.PendingCount.Should().Be(0);
    }

    [Fact]
    public void BadLimits_AreRejectedByTheConstructor_EachNamed_NotByTheSetters()
    {
        var options = new TaskSupervisorOptions { MaxConcurrency = 0, MaxPending = -1 };

        FluentActions.Invoking(() => new TaskSupervisor(options)).Should().Throw<ArgumentException>().WithParameterName("options")
            .Which.Message.Should().ContainAll("MaxConcurrency = 0", "MaxPending = -1");
    }

    [Fact]
    public void MaxPendingWithoutMaxConcurrency_IsRejected_ByTheConstructorAndByOptionsValidation()
    {
        FluentActions.Invoking(() => new TaskSupervisor(new TaskSupervisorOptions { MaxPending = 10 })).Should().Throw<ArgumentException>().WithMessage("*MaxConcurrency*");

        using ServiceProvider provider = new ServiceCollection().AddTaskSupervisor(o => o.MaxPending = 10).BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IOptions<TaskSupervisorOptions>>().Value)
            .Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle(f => f.Contains("MaxConcurrency"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
