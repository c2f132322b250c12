using Microsoft.Extensions.DependencyInjection;

namespace TaskSupervision.Tests;

/// <summary>
/// Issue 12's ownership decisions: a callback that needs async work hands it to the supervisor (the README's pattern),
/// and the synchronous Dispose drains before it returns.
/// </summary>
public sealed class CallbackAndDisposeTests
{
    [Fact]
    public async Task OnTaskEnded_AsyncDeadLetter_StartedAsASupervisedTask_IsWritten_AndQuiescenceWaitsForIt()
    {
        var store = new DeadLetterStore();
        await using ServiceProvider provider = WithDeadLetters(store);
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();

        supervisor.Run(_ => throw new InvalidOperationException("boom"), new TaskOptions { Name = "import" });
        await store.WriteStarted.Task.Within();
        Task quiescent = supervisor.WhenQuiescentAsync();

        quiescent.IsCompleted.Should().BeFalse("the dead letter is a supervised task, still writing");
        store.MayFinish.SetResult();
        await quiescent.Within();
        store.Written.Should().Equal("import: boom");
        store.KeptForLater.Should().BeEmpty();
    }

    [Fact]
    public async Task OnTaskEnded_DuringADrain_TryRunReportsClosed_AndTheCallbackFallsBackWithoutThrowing()
    {
        var store = new DeadLetterStore();
        await using ServiceProvider provider = WithDeadLetters(store);
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        supervisor.Run(async ct =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                throw new InvalidOperationException("flush failed on shutdown"); // a fault while draining
            }
        }, new TaskOptions { Name = "flush" });
        await started.Task.Within();

        DrainReport report = await supervisor.DrainAsync().Within();

        report.Faulted.Should().Be(1);
        report.IsComplete.Should().BeTrue();
        store.Written.Should().BeEmpty("the supervisor accepts no work once it drains");
        store.KeptForLater.Should().Equal("flush: flush failed on shutdown (Closed)");
    }

    [Fact]
    public async Task Dispose_Synchronous_ReturnsOnlyOnceEveryTaskHasEnded_AndItsCallbacksRan()
    {
        int callbacks = 0;
        await using var harness = new Harness(o => o.OnTaskEnded = _ => Interlocked.Increment(ref callbacks));
        TaskCompletionSource[] started = [.. Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        foreach (TaskCompletionSource signal in started)
        {
            harness.Supervisor.Run(async ct => { signal.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        }

        await Task.WhenAll(started.Select(s => s.Task)).Within();

        harness.Supervisor.Dispose();

        Volatile.Read(ref callbacks).Should().Be(3);
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.LastDrainReport.Should().NotBeNull();
        harness.Supervisor.LastDrainReport!.Canceled.Should().Be(3);
    }

    [Fact]
    public async Task ServiceProvider_DisposedSynchronously_DrainsTheSupervisorBeforeReturning()
    {
        ServiceProvider provider = new ServiceCollection().AddTaskSupervisor().BuildServiceProvider();
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = supervisor.Run(async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        await started.Task.Within();

        provider.Dispose();

        task.IsEnded.Should().BeTrue("the container's synchronous disposal drains, it does not only signal");
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
        supervisor.IsClosed.Should().BeTrue();
    }

    /// <summary>The README's pattern: async work from a callback is handed to the supervisor, never awaited in the callback.</summary>
    /// <summary>A container whose default supervisor writes a dead letter for every failed task (the README's pattern).</summary>
    private static ServiceProvider WithDeadLetters(DeadLetterStore store) => new ServiceCollection()
        .AddSingleton(store)
        .AddTaskSupervisor((o, services) => o.OnTaskEnded = e => WriteDeadLetter(e, services))
        .BuildServiceProvider();

    private static void WriteDeadLetter(TaskEndedArguments ended, IServiceProvider services)
    {
        if (ended.Status != SupervisedTaskStatus.Faulted || ended.Name == "dead-letter")
        {
            return; // never dead-letter a dead letter
        }

        var store = services.GetRequiredService<DeadLetterStore>();
        string letter = $"{ended.Name}: {ended.Exception?.Message}";
        ITaskSupervisor supervisor = services.GetRequiredService<ITaskSupervisor>();
        if (!supervisor.TryRun((store, letter), static (s, context) => s.store.WriteAsync(s.letter, context.CancellationToken), out _, out StartRefusal why, new TaskOptions { Name = "dead-letter" }))
        {
            store.KeepForLater($"{letter} ({why})"); // QueueFull or Closed: a quick synchronous fallback, never a throw
        }
    }

    private sealed class DeadLetterStore
    {
        private readonly List<string> _written = [];
        private readonly List<string> _kept = [];

        public TaskCompletionSource WriteStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource MayFinish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<string> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public IReadOnlyList<string> KeptForLater
        {
            get
            {
                lock (_kept)
                {
                    return [.. _kept];
                }
            }
        }

        public async Task WriteAsync(string letter, CancellationToken cancellationToken)
        {
            WriteStarted.TrySetResult();
            await MayFinish.Task.WaitAsync(cancellationToken);
            lock (_written)
            {
                _written.Add(letter);
            }
        }

        public void KeepForLater(string letter)
        {
            lock (_kept)
            {
                _kept.Add(letter);
            }
        }
    }
}
