using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskSupervision.Testing;

/// <summary>
/// A real <see cref="TaskSupervisor"/> for unit tests, with what a test needs around it: every ended task is recorded
/// (<see cref="EndedTasks"/>), <see cref="WaitUntilQuiescentAsync"/> waits until no task is tracked at all (tasks started
/// by tasks included) and fails naming what still runs, and a background fault fails the test that caused it.
/// </summary>
/// <remarks>
/// <para>Hand <see cref="Supervisor"/> to the code under test as its <see cref="ITaskSupervisor"/>; in a host or a
/// <c>WebApplicationFactory</c>, call <see cref="TestSupervisorServiceCollectionExtensions.AddTestSupervisor"/> in the test's
/// service configuration and resolve <see cref="TestSupervisor"/> from the container.</para>
/// <para>A task that fails (faults or times out) is a test failure unless the test takes it with
/// <see cref="TakeFailures"/>: <see cref="WaitUntilQuiescentAsync"/>, <see cref="AssertNoFailures"/> and
/// <see cref="DisposeAsync"/> throw <see cref="TaskSupervisorAssertionException"/> for it (set <see cref="FailOnFault"/> to
/// <see langword="false"/> to only record). The exception is a plain one, so any test framework reports it.</para>
/// <para>The supervisor uses the <see cref="TimeProvider"/> it is given (a <c>FakeTimeProvider</c>): restarts, timeouts and
/// elapsed times follow the fake clock. The quiescence timeout is the one thing measured in real time, so that a test on a
/// fake clock that nobody advances fails after <see cref="QuiescenceTimeout"/> instead of hanging.</para>
/// <para>Records are kept until the test ends; a test supervisor is for one test.</para>
/// </remarks>
public sealed class TestSupervisor : IAsyncDisposable
{
    /// <summary>The default of <see cref="QuiescenceTimeout"/>: 10 seconds of real time.</summary>
    public static readonly TimeSpan DefaultQuiescenceTimeout = TimeSpan.FromSeconds(10);

    private const int MaxTasksNamed = 20;

    private readonly object _gate = new();
    private readonly List<EndedTaskRecord> _ended = [];
    private readonly List<EndedTaskRecord> _failures = [];

    /// <summary>Creates a test supervisor named <c>"test"</c>.</summary>
    /// <param name="timeProvider">The supervisor's clock, such as a <c>FakeTimeProvider</c>; <see langword="null"/> for the system clock.</param>
    /// <param name="configure">Further settings of the supervisor (limits, a default restart policy); may be <see langword="null"/>. An <c>OnTaskEnded</c> it assigns is kept: the recorder is added after it.</param>
    /// <param name="services">Where to find an <see cref="ILoggerFactory"/>, an <see cref="IServiceScopeFactory"/> (for scoped starts) and an <see cref="IMeterFactory"/>; may be <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The settings made by <paramref name="configure"/> are invalid.</exception>
    public TestSupervisor(TimeProvider? timeProvider = null, Action<TaskSupervisorOptions>? configure = null, IServiceProvider? services = null)
        : this(Configured(new TaskSupervisorOptions { Name = "test", TimeProvider = timeProvider }, configure), services)
    {
    }

    /// <summary>A test supervisor over <paramref name="options"/>, an instance nobody else holds: the recorder is added to it.</summary>
    internal TestSupervisor(TaskSupervisorOptions options, IServiceProvider? services)
    {
        options.OnTaskEnded += Record;
        Supervisor = new TaskSupervisor(
            options,
            services?.GetService<ILoggerFactory>(),
            services?.GetService<IServiceScopeFactory>(),
            services?.GetService<IMeterFactory>());
    }

    /// <summary>Applies <paramref name="configure"/> to <paramref name="options"/> and returns them.</summary>
    internal static TaskSupervisorOptions Configured(TaskSupervisorOptions options, Action<TaskSupervisorOptions>? configure)
    {
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The supervisor to hand to the code under test.</summary>
    public TaskSupervisor Supervisor { get; }

    /// <summary>Whether a failed task makes <see cref="WaitUntilQuiescentAsync"/> and <see cref="DisposeAsync"/> throw.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool FailOnFault { get; set; } = true;

    /// <summary>How long, in real time, <see cref="WaitUntilQuiescentAsync"/> and <see cref="DisposeAsync"/> wait before they fail.</summary>
    /// <value>Defaults to <see cref="DefaultQuiescenceTimeout"/> (10 seconds). Positive, at most <see cref="TaskSupervisorOptions.MaxTimeout"/>, or infinite.</value>
    public TimeSpan QuiescenceTimeout { get; set; } = DefaultQuiescenceTimeout;

    /// <summary>Every task that has ended so far, in the order they ended.</summary>
    /// <returns>A copy.</returns>
    public IReadOnlyList<EndedTaskRecord> EndedTasks
    {
        get
        {
            lock (_gate)
            {
                return [.. _ended];
            }
        }
    }

    /// <summary>The tasks that failed (faulted or timed out) and have not been taken by <see cref="TakeFailures"/>.</summary>
    /// <returns>A copy.</returns>
    public IReadOnlyList<EndedTaskRecord> Failures
    {
        get
        {
            lock (_gate)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>
    /// Waits until the supervisor tracks no task at all (<see cref="ITaskSupervisor.WhenQuiescentAsync"/>): the tasks
    /// running now, the tasks they start, and so on. Then, with <see cref="FailOnFault"/>, fails if a task failed.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>A task that completes when no task is tracked and every ended task has been recorded.</returns>
    /// <exception cref="TaskSupervisorAssertionException">
    /// Tasks were still tracked after <see cref="QuiescenceTimeout"/> (the message names them: id, key, name, status, age),
    /// or a task failed and was not taken.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task WaitUntilQuiescentAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ValidQuiescenceTimeout());
        try
        {
            await Supervisor.WhenQuiescentAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TaskSupervisorAssertionException(DescribeStillTracked($"The supervisor was not quiescent after {QuiescenceTimeout} (real time)"));
        }

        if (FailOnFault)
        {
            AssertNoFailures();
        }
    }

    /// <summary>Hands over the failed tasks recorded so far, so that they no longer fail the test: for a test that expects a failure.</summary>
    /// <returns>The failures, in the order they happened; empty if none.</returns>
    public IReadOnlyList<EndedTaskRecord> TakeFailures()
    {
        lock (_gate)
        {
            EndedTaskRecord[] taken = [.. _failures];
            _failures.Clear();
            return taken;
        }
    }

    /// <summary>Fails if a task has failed and was not taken by <see cref="TakeFailures"/>.</summary>
    /// <exception cref="TaskSupervisorAssertionException">A task failed; the message names every failed task, the inner exception is the first one's.</exception>
    public void AssertNoFailures()
    {
        IReadOnlyList<EndedTaskRecord> failures = Failures;
        if (failures.Count == 0)
        {
            return;
        }

        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"{failures.Count} background task(s) failed:");
        foreach (EndedTaskRecord failure in failures)
        {
            message.AppendLine().Append("  ").Append(failure);
        }

        throw new TaskSupervisorAssertionException(message.ToString(), failures[0].Exception);
    }

    /// <summary>
    /// Drains the supervisor (every task still tracked is cancelled and awaited), then, with <see cref="FailOnFault"/>,
    /// fails if a task failed. Call it at the end of every test: <c>await using var tasks = new TestSupervisor();</c>.
    /// </summary>
    /// <returns>A task that completes when the drain has ended.</returns>
    /// <exception cref="TaskSupervisorAssertionException">
    /// A task ignored its cancellation past <see cref="QuiescenceTimeout"/> (real time), or a task failed and was not taken.
    /// </exception>
    /// <remarks>
    /// When the test itself has already thrown, an exception from here replaces the test's in the report (as with any
    /// <c>finally</c>); call <see cref="WaitUntilQuiescentAsync"/> or <see cref="AssertNoFailures"/> in the test to see
    /// failures in order.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        // The drain's own deadline runs on the supervisor's clock, which may be fake: bound the wait in real time instead.
        Task<DrainReport> drain = Supervisor.DrainAsync(Timeout.InfiniteTimeSpan);
        try
        {
            await drain.WaitAsync(ValidQuiescenceTimeout()).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TaskSupervisorAssertionException(DescribeStillTracked($"Tasks ignored their cancellation for {QuiescenceTimeout} (real time) after the test supervisor was disposed"));
        }

        if (FailOnFault)
        {
            AssertNoFailures();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"TestSupervisor ({Supervisor.Count} tracked, {EndedTasks.Count} ended, {Failures.Count} failure(s))";

    private void Record(TaskEndedArguments ended)
    {
        var record = new EndedTaskRecord(ended);
        lock (_gate)
        {
            _ended.Add(record);
            if (record.Failed)
            {
                _failures.Add(record);
            }
        }
    }

    private TimeSpan ValidQuiescenceTimeout()
    {
        TimeSpan timeout = QuiescenceTimeout;
        return timeout == Timeout.InfiniteTimeSpan || (timeout > TimeSpan.Zero && timeout <= TaskSupervisorOptions.MaxTimeout)
            ? timeout
            : throw new InvalidOperationException($"QuiescenceTimeout must be positive, at most {TaskSupervisorOptions.MaxTimeout}, or infinite; it is {timeout}.");
    }

    private string DescribeStillTracked(string headline)
    {
        TaskPage page = Supervisor.GetTasks(new TaskQuery { Take = MaxTasksNamed });
        var message = new StringBuilder(headline);
        message.Append(CultureInfo.InvariantCulture, $": {page.TotalCount} task(s) still tracked, oldest first:");
        foreach (SupervisedTaskInfo task in page.Items)
        {
            message.AppendLine().Append("  ").Append(task);
        }

        if (page.TotalCount > page.Items.Count)
        {
            message.AppendLine().Append(CultureInfo.InvariantCulture, $"  ... and {page.TotalCount - page.Items.Count} more");
        }

        return message.ToString();
    }
}
