using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace TaskSupervision.Tests;

/// <summary>
/// Races start (keyed with every conflict behaviour, unkeyed, TryRun, RunAsync under a concurrency limit), cancel,
/// replace, enqueue, cancel-and-await, wait-until-idle, restarts and dispose from many threads, with random choices from a
/// seed that every failure prints. Then checks the invariants: every task reached exactly one end, every callback ran
/// exactly once and only for tasks a caller got, the key map holds no finished task, the count returns to zero, no
/// <see cref="TaskScheduler.UnobservedTaskException"/>, and nothing hung (every wait is bounded).
/// </summary>
/// <remarks>
/// <para>TASKSUPERVISOR_STRESS_ITERATIONS raises the operations per thread (default 2,000) for a soak;
/// TASKSUPERVISOR_STRESS_SEED replays a seed printed by a failure.</para>
/// <para>The supervisor runs on a <see cref="FakeTimeProvider"/> that nobody advances: restarts use a zero backoff (a
/// zero-due fake timer fires at once), their window never slides (so a task gives up after its last restart), and the
/// drain's deadline never passes, so a task that never ends fails the bounded wait instead of becoming a straggler.</para>
/// </remarks>
public sealed class StressTests(ITestOutputHelper output)
{
    private const int Threads = 8;
    private const int MaxConcurrency = 4;
    private const int MaxPending = 32;
    private const string SeedVariable = "TASKSUPERVISOR_STRESS_SEED";
    private const string IterationsVariable = "TASKSUPERVISOR_STRESS_ITERATIONS";

    private static readonly KeyConflictBehavior[] s_behaviors =
        [KeyConflictBehavior.Reject, KeyConflictBehavior.Replace, KeyConflictBehavior.UseExisting, KeyConflictBehavior.Enqueue];

    private static readonly RestartPolicy s_restart = new()
    {
        Mode = RestartMode.OnFailure,
        InitialDelay = TimeSpan.Zero,
        MaxDelay = TimeSpan.Zero,
        MaxRestarts = 2,
    };

    private static int OperationsPerThread =>
        int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), out int n) && n > 0 ? n : 2_000;

    /// <summary>
    /// The bound of the workers' whole run: the usual bound, plus 1 ms per operation per thread for a soak
    /// (a run takes about 0.3 ms per operation per thread on a loaded 2-core machine). Every other wait keeps the
    /// usual bound.
    /// </summary>
    private static TimeSpan WorkersBound => TestExtensions.Bound + TimeSpan.FromMilliseconds(1.0 * Math.Max(0, OperationsPerThread - 2_000));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public Task Races_EveryTaskReachesExactlyOneEnd_AndTheSupervisorEndsEmpty(int round) =>
        RunRound(round, limited: false, nameof(Races_EveryTaskReachesExactlyOneEnd_AndTheSupervisorEndsEmpty));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public Task Races_UnderAConcurrencyLimit_EveryTaskReachesExactlyOneEnd_AndTheQueueEndsEmpty(int round) =>
        RunRound(round, limited: true, nameof(Races_UnderAConcurrencyLimit_EveryTaskReachesExactlyOneEnd_AndTheQueueEndsEmpty));

    private async Task RunRound(int round, bool limited, string test)
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out int replay)
            ? replay
            : Environment.TickCount ^ (round * 7919) ^ (limited ? 0x5bd1e995 : 0);
        string replayHint = $"replay: {SeedVariable}={seed} dotnet test tests/TaskSupervisor.Tests --filter \"FullyQualifiedName~StressTests.{test}\"";
        output.WriteLine($"seed {seed}, {Threads} threads x {OperationsPerThread} operations ({replayHint})");
        var clock = Stopwatch.StartNew();
        try
        {
            Counts counts = await RunRaces(seed, limited);
            output.WriteLine($"{counts}, in {clock.Elapsed.TotalSeconds:0.0} s");
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"Stress run failed with seed {seed} ({replayHint}): {ex}");
        }
    }

    private static async Task<Counts> RunRaces(int seed, bool limited)
    {
        string marker = $"stress fault {Guid.NewGuid():N}";
        int unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, e) =>
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message.Contains(marker, StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref unobserved);
            }
        };
        TaskScheduler.UnobservedTaskException += onUnobserved;
        try
        {
            var counts = new Counts();
            await RunRacesCore(seed, limited, marker, counts);
            for (int i = 0; i < 2; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            unobserved.Should().Be(0, "nothing a supervised task does raises UnobservedTaskException");
            return counts;
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }
    }

    private static async Task RunRacesCore(int seed, bool limited, string marker, Counts counts)
    {
        var perTaskEnds = new ConcurrentDictionary<SupervisedTask, int>(ReferenceEqualityComparer.Instance);
        var supervisorEnds = new ConcurrentDictionary<SupervisedTask, int>(ReferenceEqualityComparer.Instance);
        var handles = new ConcurrentDictionary<SupervisedTask, byte>(ReferenceEqualityComparer.Instance);
        var longRunning = new ConcurrentQueue<SupervisedTask>();
        var keys = Enumerable.Range(0, 16).Select(i => $"key:{i}").ToArray();
        var supervisor = new TaskSupervisor(new TaskSupervisorOptions
        {
            Name = "stress",
            TimeProvider = new FakeTimeProvider(),
            OnTaskEnded = e => supervisorEnds.AddOrUpdate(e.Task, 1, (_, n) => n + 1),
            MaxConcurrency = limited ? MaxConcurrency : null,
            MaxPending = limited ? MaxPending : null,
        });
        Action<TaskEndedArguments> onEnded = e => perTaskEnds.AddOrUpdate(e.Task, 1, (_, n) => n + 1);

        // Every combination of conflict behaviour and restart policy, built once and shared, as an app would.
        TaskOptions[] keyedOptions = [.. s_behaviors.SelectMany(b => new[]
        {
            new TaskOptions { IfKeyRunning = b, OnEnded = onEnded },
            new TaskOptions { IfKeyRunning = b, OnEnded = onEnded, Restart = s_restart },
        })];
        TaskOptions[] unkeyedOptions = [keyedOptions[0], keyedOptions[1]];
        int disposeAt = OperationsPerThread * 3 / 4;
        var waits = new ConcurrentBag<Task>();

        void Track(SupervisedTask? task, int kind)
        {
            if (task is not null && handles.TryAdd(task, 0) && kind == LongRunning)
            {
                longRunning.Enqueue(task);
            }
        }

        // Under the limit, a RunAsync waits for room; room comes back only when a running task ends. Before it may wait,
        // a worker cancels one long-running task, so that eight workers waiting at once still make progress.
        void MakeRoom()
        {
            while (longRunning.TryDequeue(out SupervisedTask? task))
            {
                if (!task.IsEnded && !task.IsCancellationRequested)
                {
                    task.Cancel();
                    return;
                }
            }
        }

        Task[] workers = Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            var random = new Random(seed + t);
            for (int i = 0; i < OperationsPerThread; i++)
            {
                if (t == 0 && i == disposeAt)
                {
                    waits.Add(supervisor.DisposeAsync().AsTask());
                }

                try
                {
                    string key = keys[random.Next(keys.Length)];
                    int kind = random.Next(4);
                    Func<CancellationToken, Task> work = Work(kind, marker);
                    TaskOptions keyed = keyedOptions[random.Next(keyedOptions.Length)];
                    TaskOptions unkeyed = unkeyedOptions[random.Next(unkeyedOptions.Length)];
                    switch (random.Next(10))
                    {
                        case 0:
                        case 1:
                            Track(supervisor.Run(work, unkeyed), kind);
                            break;
                        case 2:
                        case 3:
                            Track(supervisor.Run(key, work, keyed), kind);
                            break;
                        case 4:
                            // TryRun rejects a conflict behaviour (it decides conflicts itself): the unkeyed options have none.
                            supervisor.TryRun(key, work, out SupervisedTask? started, out _, unkeyed);
                            Track(started, kind);
                            break;
                        case 5:
                            if (supervisor.TryGetTask(key, out SupervisedTask? found))
                            {
                                found.Cancel();
                            }

                            break;
                        case 6:
                            waits.Add(supervisor.CancelAsync(key, Timeout.InfiniteTimeSpan));
                            break;
                        case 7:
                            if (supervisor.TryRun(work, out SupervisedTask? tried, out _, unkeyed))
                            {
                                Track(tried, kind);
                            }
                            else
                            {
                                counts.Refused();
                            }

                            break;
                        case 8:
                            if (limited && supervisor.PendingCount >= MaxPending - Threads)
                            {
                                MakeRoom();
                            }

                            Track(random.Next(2) == 0
                                ? await supervisor.RunAsync(work, unkeyed).AsTask().Within()
                                : await supervisor.RunAsync(key, work, keyed).AsTask().Within(), kind);
                            break;
                        default:
                            if (random.Next(50) == 0)
                            {
                                waits.Add(supervisor.WhenIdleAsync());
                            }

                            break;
                    }
                }
                catch (TaskKeyConflictException)
                {
                    // Reject on a taken key: the documented refusal.
                }
                catch (SupervisorQueueFullException)
                {
                    counts.Refused();
                }
                catch (ObjectDisposedException)
                {
                    // Starting after the drain began: the documented refusal.
                }

                counts.Operation();
                if (i % 64 == 0)
                {
                    await Task.Yield();
                }
            }
        })).ToArray();

        await Task.WhenAll(workers).WaitAsync(WorkersBound);
        DrainReport report = await supervisor.DrainAsync().Within();
        await Task.WhenAll(waits).Within();
        await Task.WhenAll(handles.Keys.Select(h => h.Task.ContinueWith(_ => { }, TaskScheduler.Default))).Within();

        report.IsComplete.Should().BeTrue();
        supervisor.Count.Should().Be(0, "the count returns to zero");
        supervisor.PendingCount.Should().Be(0);
        supervisor.GetSnapshot().Should().BeEmpty();
        keys.Where(k => supervisor.TryGetTask(k, out _)).Should().BeEmpty("the key map holds no finished task");
        foreach (SupervisedTask handle in handles.Keys)
        {
            handle.Status.Should().BeOneOf(SupervisedTaskStatus.RanToCompletion, SupervisedTaskStatus.Canceled, SupervisedTaskStatus.Faulted);
            handle.Task.IsCompleted.Should().BeTrue();
            perTaskEnds.GetValueOrDefault(handle).Should().Be(1, $"task {handle} ends exactly once");
            supervisorEnds.GetValueOrDefault(handle).Should().Be(1, $"task {handle} is reported once");
            counts.Ended(handle.Status, handle.RestartCount);
        }

        perTaskEnds.Keys.Should().OnlyContain(t => handles.ContainsKey(t), "callbacks run only for tasks a caller got");
        supervisorEnds.Keys.Should().OnlyContain(t => handles.ContainsKey(t), "callbacks run only for tasks a caller got");
        handles.Should().NotBeEmpty();
    }

    private const int LongRunning = 2;

    private static Func<CancellationToken, Task> Work(int kind, string marker) => kind switch
    {
        0 => static _ => Task.CompletedTask,
        1 => static async _ => await Task.Yield(),
        LongRunning => static ct => Task.Delay(Timeout.Infinite, ct),
        _ => async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException(marker);
        },
    };

    /// <summary>What a run did, for the soak figures.</summary>
    private sealed class Counts
    {
        private long _operations;
        private long _refused;
        private long _completed;
        private long _canceled;
        private long _faulted;
        private long _restarts;

        public void Operation() => Interlocked.Increment(ref _operations);

        public void Refused() => Interlocked.Increment(ref _refused);

        public void Ended(SupervisedTaskStatus status, int restarts)
        {
            _restarts += restarts;
            switch (status)
            {
                case SupervisedTaskStatus.RanToCompletion:
                    _completed++;
                    break;
                case SupervisedTaskStatus.Canceled:
                    _canceled++;
                    break;
                default:
                    _faulted++;
                    break;
            }
        }

        public override string ToString() =>
            $"{_operations} operations: {_completed + _canceled + _faulted} tasks started ({_completed} completed, {_canceled} canceled, " +
            $"{_faulted} faulted, {_restarts} restarts), {_refused} refused as full";
    }
}
