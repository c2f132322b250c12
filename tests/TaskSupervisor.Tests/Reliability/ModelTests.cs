using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace TaskSupervision.Tests.Reliability;

/// <summary>
/// Model-based test (issue 11): seeded random sequences of operations run against the real supervisor and against a
/// small model of what the docs promise. The operations: unkeyed and keyed starts with every conflict behaviour; work
/// that waits to be told to complete or throw, that ignores its token, that completes or throws at once; timeouts and
/// restarts with their delays on a fake clock; cancel; cancel-and-await; and a drain that ends each run. After every step
/// the observable state must match: each handle's status and attempts, <c>Count</c>, <c>RunningCount</c>,
/// <c>PendingCount</c>, key look-ups, the fake clock's armed timers, the task-ended callbacks seen, and every log above Debug.
/// </summary>
/// <remarks>
/// Each run of <see cref="StepsPerRun"/> steps uses its own supervisor and seed (the first run's seed plus its index).
/// A failure names the run's seed and step and how to replay it:
/// <c>TASKSUPERVISOR_MODEL_SEED=&lt;seed&gt; TASKSUPERVISOR_MODEL_STEPS=&lt;steps&gt;</c>. A soak raises
/// <c>TASKSUPERVISOR_MODEL_STEPS</c>. Every wait is bounded by <see cref="TestExtensions.Bound"/>: a bug fails, never hangs;
/// nothing sleeps: the test waits until the supervisor shows what the model expects.
/// </remarks>
public sealed class ModelTests(ITestOutputHelper output)
{
    private const int DefaultSteps = 2_000;
    private const int StepsPerRun = 150;
    private const int MaxRestarts = 2;
    private static readonly TimeSpan TimeoutOption = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly string[] Keys = ["a", "b"];

    private static readonly RestartPolicy Restart = new()
    {
        Mode = RestartMode.OnFailure,
        InitialDelay = TimeSpan.FromSeconds(1),
        Multiplier = 2,
        MaxDelay = TimeSpan.FromSeconds(3),
        Jitter = 0,
        MaxRestarts = MaxRestarts,
        Window = TimeSpan.FromDays(1),
    };

    private enum Kind
    {
        /// <summary>Waits until the test completes or fails it; honours its token.</summary>
        Gated,

        /// <summary>Waits until the test completes or fails it; ignores its token.</summary>
        Stubborn,
        CompletesAtOnce,
        ThrowsAtOnce,
    }

    private enum Outcome
    {
        Complete,
        Throw,
        TokenCanceled,
    }

    private enum State
    {
        Waiting,
        Running,
        Backoff,
        Ended,
    }

    [Fact]
    public async Task RandomOperations_MatchTheModel_AfterEveryStep()
    {
        int steps = int.TryParse(Environment.GetEnvironmentVariable("TASKSUPERVISOR_MODEL_STEPS"), out int s) && s > 0 ? s : DefaultSteps;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("TASKSUPERVISOR_MODEL_SEED"), out int fixedSeed) ? fixedSeed : Random.Shared.Next();
        var clock = Stopwatch.StartNew();
        int done = 0;
        int runs = 0;
        var seen = new ConcurrentDictionary<string, int>();

        // Off xunit's synchronization context: the test's continuations run on the thread pool like the supervisor's.
        await Task.Run(async () =>
        {
            while (done < steps)
            {
                int length = Math.Min(StepsPerRun, steps - done);
                await new Run(unchecked(seed + runs), length, seen).ExecuteAsync();
                runs++;
                done += length;
            }
        });

        output.WriteLine($"model test: {done} steps in {runs} runs, seeds {seed}..{unchecked(seed + runs - 1)}, {clock.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine("seen: " + string.Join(", ", seen.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")));
    }

    private sealed class ModelTask
    {
        public required int Number;
        public required string? Key;
        public required Kind Kind;
        public required bool HasTimeout;
        public required bool HasRestart;
        public required ModelTask? Before;
        public SupervisedTask Handle = null!;

        // The model's side.
        public State State;
        public int Attempts;
        public int Restarts;
        public bool CancelRequested;
        public bool TimerFired;
        public long TimerDue;
        public SupervisedTaskStatus? Ended;

        // The real side, written by the work.
        public int RealAttempts;
        public TaskCompletionSource<Outcome>? Gate;

        public bool IsWaitingForTheTest => State == State.Running && Kind is Kind.Gated or Kind.Stubborn;
    }

    private sealed class Run(int seed, int length, ConcurrentDictionary<string, int> seen)
    {
        private readonly Random _random = new(seed);
        private readonly List<ModelTask> _tasks = [];
        private readonly Dictionary<long, ModelTask> _byId = [];
        private readonly Dictionary<string, ModelTask> _holders = [];
        private readonly List<string> _history = [];
        private readonly List<string> _expectedLogs = [];
        private readonly List<string> _expectedCallbacks = [];
        private readonly ConcurrentQueue<(long Id, SupervisedTaskStatus Status, bool GaveUp)> _callbacks = new();
        private Harness _harness = null!;
        private long _now;
        private bool _closed;
        private int _step;

        public async Task ExecuteAsync()
        {
            _harness = new Harness(o =>
            {
                o.OnTaskEnded = a => _callbacks.Enqueue((a.Task.Id, a.Status, a.GaveUp));
                o.ShutdownTimeout = DrainTimeout;
            });
            try
            {
                for (_step = 0; _step < length; _step++)
                {
                    await StepAsync();
                    await SettleAndCheckAsync();
                }

                await DrainAndCheckAsync();
                foreach (string what in _expectedCallbacks.Select(c => c[(c.IndexOf(' ', StringComparison.Ordinal) + 1)..])
                    .Concat(_expectedLogs.Select(l => l[..l.IndexOf(' ', StringComparison.Ordinal)])))
                {
                    seen.AddOrUpdate(what, 1, (_, n) => n + 1);
                }
            }
            catch (Exception ex) when (ex is not ModelMismatchException)
            {
                throw new ModelMismatchException(Describe(ex.Message), ex);
            }
            finally
            {
                foreach (ModelTask task in _tasks)
                {
                    Volatile.Read(ref task.Gate)?.TrySetResult(Outcome.Complete);
                }

                await _harness.DisposeAsync();
            }
        }

        private string Describe(string problem) =>
            $"model mismatch with seed {seed.ToString(CultureInfo.InvariantCulture)} at step {_step} " +
            $"(replay: TASKSUPERVISOR_MODEL_SEED={seed} TASKSUPERVISOR_MODEL_STEPS={_step + 1}): {problem}\nlast steps:\n  " +
            string.Join("\n  ", _history.TakeLast(20));

        private void Note(string what) => _history.Add($"{_step}: {what}");

        private IEnumerable<ModelTask> Live => _tasks.Where(t => t.State != State.Ended);

        private ModelTask? Pick(IEnumerable<ModelTask> candidates)
        {
            List<ModelTask> list = candidates.ToList();
            return list.Count == 0 ? null : list[_random.Next(list.Count)];
        }

        private async Task StepAsync()
        {
            int choice = _random.Next(100);
            if (choice < 20)
            {
                Start(key: null);
            }
            else if (choice < 45)
            {
                Start(Keys[_random.Next(Keys.Length)]);
            }
            else if (choice < 65 && Pick(Live.Where(t => t.IsWaitingForTheTest)) is { } running)
            {
                Outcome outcome = _random.Next(3) == 0 ? Outcome.Throw : Outcome.Complete;
                Note($"release #{running.Number} {outcome}");
                running.Gate!.TrySetResult(outcome);
                AttemptEnded(running, outcome);
            }
            else if (choice < 75 && Pick(_tasks) is { } target)
            {
                Note($"cancel #{target.Number} ({target.State})");
                target.Handle.Cancel();
                Cancel(target);
            }
            else if (choice < 85 && Pick(_tasks) is { } awaited)
            {
                await CancelAndAwaitAsync(awaited);
            }
            else if (choice < 97)
            {
                TimeSpan by = TimeSpan.FromSeconds(_random.Next(3) switch { 0 => 1, 1 => 2, _ => 5 });
                Note($"advance the clock by {by.TotalSeconds} s");
                _harness.Time.Advance(by);
                Advance(by);
            }
            else
            {
                Start(Keys[_random.Next(Keys.Length)]);
            }

            Promote();
        }

        private void Start(string? key)
        {
            var kind = (Kind)_random.Next(4);
            bool timeout = _random.Next(3) == 0;
            bool restart = _random.Next(3) == 0;
            // An unkeyed start takes only the default behaviour; now and then another, which it rejects.
            var behavior = key is null && _random.Next(10) != 0 ? KeyConflictBehavior.Reject : (KeyConflictBehavior)_random.Next(4);
            var options = new TaskOptions
            {
                Timeout = timeout ? TimeoutOption : null,
                Restart = restart ? Restart : null,
                IfKeyRunning = behavior,
            };
            ModelTask? holder = key is not null && _holders.TryGetValue(key, out ModelTask? h) ? h : null;
            var task = new ModelTask { Number = _tasks.Count, Key = key, Kind = kind, HasTimeout = timeout, HasRestart = restart, Before = holder };
            Func<CancellationToken, Task> work = ct => Work(task, ct);
            Note($"start #{task.Number} key={key ?? "-"} {behavior} {kind}{(timeout ? " timeout" : "")}{(restart ? " restart" : "")}");

            if (key is null && behavior != KeyConflictBehavior.Reject)
            {
                Note("  refused: an unkeyed start has no key conflict");
                _harness.Supervisor.Invoking(s => s.Run(work, options)).Should().Throw<ArgumentException>("an unkeyed start has no key conflict");
                return;
            }

            if (holder is not null && behavior is KeyConflictBehavior.UseExisting)
            {
                Note($"  returns the holder #{holder.Number}");
                _harness.Supervisor.Run(key!, work, options).Should().BeSameAs(holder.Handle, "UseExisting returns the key's holder");
                return;
            }

            if (holder is not null && behavior is KeyConflictBehavior.Reject)
            {
                Note($"  refused: #{holder.Number} holds the key");
                _harness.Supervisor.Invoking(s => s.Run(key!, work, options)).Should().Throw<TaskKeyConflictException>();
                return;
            }

            task.Handle = key is null ? _harness.Supervisor.Run(work, options) : _harness.Supervisor.Run(key, work, options);
            _tasks.Add(task);
            _byId.Add(task.Handle.Id, task);
            if (key is not null)
            {
                _holders[key] = task;
            }

            if (holder is not null && behavior == KeyConflictBehavior.Replace)
            {
                Cancel(holder);
            }
        }

        private static async Task Work(ModelTask task, CancellationToken ct)
        {
            var gate = new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref task.Gate, gate);
            Interlocked.Increment(ref task.RealAttempts);
            switch (task.Kind)
            {
                case Kind.CompletesAtOnce:
                    return;
                case Kind.ThrowsAtOnce:
                    throw new InvalidOperationException("work failed at once");
                case Kind.Gated:
                    ct.Register(() => gate.TrySetCanceled(ct));
                    break;
            }

            if (await gate.Task == Outcome.Throw)
            {
                throw new InvalidOperationException("work failed");
            }
        }

        private async Task CancelAndAwaitAsync(ModelTask task)
        {
            bool endsAtOnce = !(task.State == State.Running && task.Kind == Kind.Stubborn);
            Note($"cancel and await #{task.Number} ({task.State})");
            Task<CancelResult> result = task.Handle.CancelAsync(endsAtOnce ? Timeout.InfiniteTimeSpan : TimeSpan.Zero);
            Cancel(task);
            Promote();
            CancelResult expected = task.Ended switch
            {
                null => CancelResult.StillRunning,
                SupervisedTaskStatus.RanToCompletion => CancelResult.RanToCompletion,
                SupervisedTaskStatus.Canceled => CancelResult.Canceled,
                _ => CancelResult.Faulted,
            };
            (await result.Within()).Should().Be(expected, "CancelAsync of #{0}", task.Number);
        }

        // ---- The model: what the docs promise ----

        /// <summary>A successor of a key's line runs once every task before it has ended.</summary>
        private void Promote()
        {
            foreach (ModelTask task in _tasks.Where(t => t.State == State.Waiting).ToList())
            {
                bool lineEnded = true;
                for (ModelTask? before = task.Before; before is not null; before = before.Before)
                {
                    lineEnded &= before.State == State.Ended;
                }

                if (lineEnded)
                {
                    BeginAttempt(task);
                }
            }
        }

        private void BeginAttempt(ModelTask task)
        {
            task.State = State.Running;
            task.Attempts++;
            task.TimerFired = false;
            task.TimerDue = _now + TimeoutOption.Ticks;
            if (task.Kind == Kind.CompletesAtOnce)
            {
                AttemptEnded(task, Outcome.Complete);
            }
            else if (task.Kind == Kind.ThrowsAtOnce)
            {
                AttemptEnded(task, Outcome.Throw);
            }
        }

        private void AttemptEnded(ModelTask task, Outcome outcome)
        {
            bool timedOut = task.HasTimeout && task.TimerFired && !task.CancelRequested;
            SupervisedTaskStatus status = outcome switch
            {
                Outcome.Complete => SupervisedTaskStatus.RanToCompletion,
                _ when timedOut => SupervisedTaskStatus.TimedOut,
                Outcome.Throw => SupervisedTaskStatus.Faulted,
                _ => SupervisedTaskStatus.Canceled,
            };
            if (timedOut && outcome == Outcome.Complete)
            {
                ExpectLog("TaskOverran", task);
            }

            if (task.HasRestart && !task.CancelRequested && !_closed && status is SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut)
            {
                if (task.Restarts == MaxRestarts)
                {
                    End(task, SupervisedTaskStatus.Faulted, gaveUp: true);
                    return;
                }

                task.Restarts++;
                ExpectLog("TaskRestarting", task);
                task.State = State.Backoff;
                task.TimerDue = _now + Math.Min(TimeSpan.FromSeconds(3).Ticks, TimeSpan.FromSeconds(1).Ticks << (task.Restarts - 1));
                return;
            }

            End(task, status, gaveUp: false);
        }

        private void Cancel(ModelTask task)
        {
            if (task.State == State.Ended)
            {
                return;
            }

            task.CancelRequested = true;
            if (task.State != State.Running)
            {
                End(task, SupervisedTaskStatus.Canceled, gaveUp: false); // it never runs again: it ends at once
            }
            else if (task.Kind != Kind.Stubborn)
            {
                AttemptEnded(task, Outcome.TokenCanceled);
            }
        }

        private void Advance(TimeSpan by)
        {
            _now += by.Ticks;

            // Every timer due by now fires; what it starts (a backoff, an attempt) is due after now, so nothing cascades.
            foreach (ModelTask task in _tasks.Where(t => t.State is State.Running or State.Backoff && HasArmedTimer(t) && t.TimerDue <= _now).ToList())
            {
                if (task.State == State.Backoff)
                {
                    BeginAttempt(task);
                    continue;
                }

                task.TimerFired = true;
                if (task.Kind == Kind.Gated)
                {
                    AttemptEnded(task, Outcome.TokenCanceled);
                }
            }
        }

        private static bool HasArmedTimer(ModelTask task) => task.State switch
        {
            State.Backoff => true,
            State.Running => task.HasTimeout && !task.TimerFired && !task.CancelRequested,
            _ => false,
        };

        private void End(ModelTask task, SupervisedTaskStatus status, bool gaveUp)
        {
            task.State = State.Ended;
            task.Ended = status;
            if (task.Key is not null && _holders.TryGetValue(task.Key, out ModelTask? holder) && holder == task)
            {
                _holders.Remove(task.Key);
            }

            switch (status)
            {
                case SupervisedTaskStatus.Faulted when gaveUp:
                    ExpectLog("TaskGaveUp", task);
                    break;
                case SupervisedTaskStatus.Faulted:
                    ExpectLog("TaskFaulted", task);
                    break;
                case SupervisedTaskStatus.TimedOut:
                    ExpectLog("TaskTimedOut", task);
                    break;
            }

            _expectedCallbacks.Add($"#{task.Number} {status}{(gaveUp ? " gave up" : "")}");
        }

        private void ExpectLog(string eventName, ModelTask task) => _expectedLogs.Add($"{eventName} #{task.Number}");

        private static SupervisedTaskStatus Expected(ModelTask task) => task.State switch
        {
            State.Ended => task.Ended!.Value,
            State.Running => SupervisedTaskStatus.Running,
            _ => SupervisedTaskStatus.Pending,
        };

        // ---- The comparison ----

        private async Task SettleAndCheckAsync()
        {
            // The real supervisor works on the thread pool: wait (bounded) until it shows what the model expects, then
            // compare everything, so that a mismatch names what differs.
            var bound = Stopwatch.StartNew();
            while (!Matches() && bound.Elapsed < TestExtensions.Bound)
            {
                await Task.Yield();
            }

            // Compared plainly first (a soak runs a million steps); the assertions below only name what differs.
            if (AllMatch())
            {
                return;
            }

            foreach (ModelTask task in _tasks)
            {
                task.Handle.Status.Should().Be(Expected(task), "the status of #{0}", task.Number);
                Volatile.Read(ref task.RealAttempts).Should().Be(task.Attempts, "the attempts of #{0}", task.Number);
            }

            TaskSupervisor supervisor = _harness.Supervisor;
            supervisor.Count.Should().Be(Live.Count(), "Count");
            supervisor.RunningCount.Should().Be(Live.Count(t => t.State == State.Running), "RunningCount");
            supervisor.PendingCount.Should().Be(0, "PendingCount (no concurrency limit)");
            foreach (string key in Keys)
            {
                supervisor.TryGetTask(key, out SupervisedTask? held);
                held.Should().BeSameAs(_holders.TryGetValue(key, out ModelTask? holder) ? holder.Handle : null, "the holder of key {0}", key);
            }

            _harness.Time.ArmedTimers.Should().Be(_tasks.Count(HasArmedTimer), "the timers armed (timeouts and restart delays)");
            RealCallbacks().Should().BeEquivalentTo(_expectedCallbacks, "the task-ended callbacks seen");
            RealLogs().Should().BeEquivalentTo(_expectedLogs, "the logs above Debug");
        }

        private bool AllMatch()
        {
            TaskSupervisor supervisor = _harness.Supervisor;
            foreach (string key in Keys)
            {
                supervisor.TryGetTask(key, out SupervisedTask? held);
                if (held != (_holders.TryGetValue(key, out ModelTask? holder) ? holder.Handle : null))
                {
                    return false;
                }
            }

            return Matches()
                && supervisor.PendingCount == 0
                && SameItems(RealCallbacks(), _expectedCallbacks)
                && SameItems(RealLogs(), _expectedLogs);

            static bool SameItems(List<string> real, List<string> expected) =>
                real.Count == expected.Count && real.Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        }

        private List<string> RealCallbacks() =>
            _callbacks.Select(c => $"#{_byId[c.Id].Number} {c.Status}{(c.GaveUp ? " gave up" : "")}").ToList();

        private bool Matches() =>
            _tasks.All(t => t.Handle.Status == Expected(t) && Volatile.Read(ref t.RealAttempts) == t.Attempts)
            && _harness.Supervisor.Count == Live.Count()
            && _harness.Supervisor.RunningCount == Live.Count(t => t.State == State.Running)
            && _harness.Time.ArmedTimers == _tasks.Count(HasArmedTimer)
            && _callbacks.Count == _expectedCallbacks.Count;

        private List<string> RealLogs() =>
            _harness.Logs.GetSnapshot()
                .Where(r => r.Level > LogLevel.Debug && r.Id.Name is not ("DrainStarted" or "DrainCompleted" or "DrainStraggler"))
                .Select(r => $"{r.Id.Name} #{(long.TryParse(r.State("TaskId"), out long id) && _byId.TryGetValue(id, out ModelTask? t) ? t.Number : -1)}")
                .ToList();

        private async Task DrainAndCheckAsync()
        {
            _step = length;
            List<ModelTask> live = Live.ToList();
            List<ModelTask> stragglers = live.Where(t => t.State == State.Running && t.Kind == Kind.Stubborn).ToList();
            Note($"drain {live.Count} task(s), {stragglers.Count} ignoring their token");
            Task<DrainReport> drain = _harness.Supervisor.DrainAsync(DrainTimeout);
            _closed = true;
            foreach (ModelTask task in live)
            {
                Cancel(task);
            }

            // Move the clock only once every task that honours its token has ended: only the stragglers hold the drain.
            await _harness.Time.AdvanceUntil(
                () => drain.IsCompleted,
                TimeSpan.FromSeconds(1),
                advanceOnlyWhen: () => live.Except(stragglers).All(t => t.Handle.IsEnded));
            DrainReport report = await drain.Within();

            seen.AddOrUpdate("drain stragglers", stragglers.Count, (_, n) => n + stragglers.Count);
            report.TasksAtStart.Should().Be(live.Count, "the drain's tasks at start");
            report.Stragglers.Select(s => _byId[s.Id].Number).Should().BeEquivalentTo(stragglers.Select(t => t.Number), "the drain's stragglers are the running tasks that ignore their token");
            report.Canceled.Should().Be(live.Count - stragglers.Count, "every other task ended canceled");
            report.Completed.Should().Be(0);
            report.Faulted.Should().Be(0);
            report.TimedOut.Should().Be(0);
            _harness.Supervisor.LastDrainReport.Should().BeSameAs(report);
            _harness.Logs.GetSnapshot().Count(r => r.Id.Name == "DrainStraggler").Should().Be(stragglers.Count, "one DrainStraggler warning per straggler");
            foreach (ModelTask task in live.Except(stragglers))
            {
                task.Handle.Status.Should().Be(SupervisedTaskStatus.Canceled, "#{0} was drained", task.Number);
            }
        }
    }

    private sealed class ModelMismatchException(string message, Exception inner) : Exception(message, inner);
}
