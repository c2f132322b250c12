using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace TaskSupervision.Tests;

public sealed class FaultTests
{
    [Fact]
    public async Task Fault_IsLoggedAsAnError_WithKeyNameAndElapsedAsFields()
    {
        await using var harness = new Harness();
        var boom = new InvalidOperationException("smtp refused");

        SupervisedTask task = harness.Supervisor.Run("email:bob@", async ct =>
        {
            await Task.Yield();
            harness.Time.Advance(TimeSpan.FromMilliseconds(250));
            throw boom;
        }, new TaskOptions { Name = "send-email" });
        await task.Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();

        FakeLogRecord record = harness.LogsWithEvent("TaskFaulted").Should().ContainSingle().Which;
        record.Level.Should().Be(LogLevel.Error);
        record.Id.Id.Should().Be(1);
        record.Exception.Should().BeSameAs(boom);
        record.State("TaskKey").Should().Be("email:bob@");
        record.State("TaskName").Should().Be("send-email");
        record.State("Supervisor").Should().Be("test");
        record.State("ElapsedMs").Should().Be("250");
        task.Status.Should().Be(SupervisedTaskStatus.Faulted);
        task.Exception.Should().BeSameAs(boom);
    }

    [Fact]
    public async Task Fault_AwaitingTheHandle_RethrowsTheWorksException()
    {
        await using var harness = new Harness();

        SupervisedTask<int> task = harness.Supervisor.Run<int>(_ => throw new FormatException("bad"));

        Func<Task> act = () => task.Task.Within();
        await act.Should().ThrowAsync<FormatException>().WithMessage("bad");
    }

    [Fact]
    public async Task SynchronousThrow_BeforeTheFirstAwait_IsReportedLikeAnyFault()
    {
        var ended = new TaskCompletionSource<TaskEndedArguments>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = new Harness(o => o.OnTaskEnded = e => ended.SetResult(e));

        harness.Supervisor.Run(_ => throw new ArgumentException("sync"));

        TaskEndedArguments args = await ended.Task.Within();
        args.Status.Should().Be(SupervisedTaskStatus.Faulted);
        args.Exception.Should().BeOfType<ArgumentException>();
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle();
    }

    [Fact]
    public async Task NullTask_FromTheDelegate_IsAFaultWithAClearMessage()
    {
        await using var harness = new Harness();

        SupervisedTask task = harness.Supervisor.Run(_ => null!);

        Func<Task> act = () => task.Task.Within();
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*returned a null Task*");
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle();
    }

    [Fact]
    public async Task CancellationNobodyRequested_IsAFault_NotACancellation()
    {
        await using var harness = new Harness();
        using var own = new CancellationTokenSource();
        own.Cancel();

        SupervisedTask task = harness.Supervisor.Run(_ => Task.Delay(Timeout.Infinite, own.Token));
        await task.Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();

        task.Status.Should().Be(SupervisedTaskStatus.Faulted);
        task.Exception.Should().BeAssignableTo<OperationCanceledException>();
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle();
    }

    [Fact]
    public async Task Callbacks_RunOnce_TaskCallbackFirst_WithHowTheTaskEnded()
    {
        var calls = new List<string>();
        await using var harness = new Harness(o => o.OnTaskEnded = e => { lock (calls) calls.Add($"supervisor:{e.Status}:{e.Key}"); });

        SupervisedTask task = harness.Supervisor.Run("k", _ => Task.CompletedTask, new TaskOptions
        {
            OnEnded = e => { lock (calls) calls.Add($"task:{e.Status}:{e.Key}"); },
        });
        await task.Task.Within();

        calls.Should().Equal("task:RanToCompletion:k", "supervisor:RanToCompletion:k");
    }

    [Fact]
    public async Task Callbacks_HaveRunWhenTheHandleCompletes()
    {
        bool ran = false;
        await using var harness = new Harness(o => o.OnTaskEnded = _ => ran = true);

        await harness.Supervisor.Run(_ => Task.CompletedTask).Task.Within();

        ran.Should().BeTrue();
    }

    [Fact]
    public async Task ThrowingCallback_IsLoggedAndContained_AndTheOtherCallbacksStillRun()
    {
        int others = 0;
        await using var harness = new Harness(o =>
        {
            o.OnTaskEnded += _ => throw new InvalidOperationException("callback 1");
            o.OnTaskEnded += _ => Interlocked.Increment(ref others);
        });

        SupervisedTask task = harness.Supervisor.Run(_ => Task.CompletedTask, new TaskOptions
        {
            OnEnded = _ => throw new InvalidOperationException("task callback"),
        });
        await task.Task.Within();

        others.Should().Be(1);
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
        harness.LogsWithEvent("CallbackFailed").Select(r => r.Exception!.Message)
            .Should().BeEquivalentTo(["task callback", "callback 1"]);
    }

    [Fact]
    public async Task ThrowingLogger_NeverStopsATaskFromEnding()
    {
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new ThrowingLoggerProvider()));
        await using var supervisor = new TaskSupervisor(null, factory);

        SupervisedTask task = supervisor.Run(_ => throw new InvalidOperationException("fault"));
        Func<Task> act = () => task.Task.Within();

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("fault");
        (await supervisor.DrainAsync().Within()).IsComplete.Should().BeTrue();
    }

    [Fact]
    public async Task UnawaitedFaults_NeverRaiseUnobservedTaskException()
    {
        string marker = Guid.NewGuid().ToString();
        int unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> handler = (_, e) =>
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message.Contains(marker, StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref unobserved);
            }
        };
        TaskScheduler.UnobservedTaskException += handler;
        try
        {
            await using (var harness = new Harness())
            {
                StartFaultsAndDropTheHandles(harness.Supervisor, marker);
                await harness.Supervisor.WhenIdleAsync().Within();
            }

            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            unobserved.Should().Be(0);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= handler;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void StartFaultsAndDropTheHandles(ITaskSupervisor supervisor, string marker)
    {
        for (int i = 0; i < 20; i++)
        {
            supervisor.Run(async _ => { await Task.Yield(); throw new InvalidOperationException(marker); });
            supervisor.Run(_ => throw new InvalidOperationException(marker));
            _ = supervisor.Run(async _ => { await Task.Yield(); throw new InvalidOperationException(marker); }).Task; // asked for, never awaited
            _ = supervisor.Run<int>(_ => Task.FromException<int>(new InvalidOperationException(marker))).Task;
        }
    }

    private sealed class ThrowingLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger();

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => throw new InvalidOperationException("logger");

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw new InvalidOperationException("logger");
        }
    }
}
