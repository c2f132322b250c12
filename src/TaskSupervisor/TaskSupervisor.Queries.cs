using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>The questions users ask a supervisor: is it closed, how many run, which tasks, and cancel a family of keys.</summary>
public sealed partial class TaskSupervisor
{
    /// <inheritdoc />
    public bool IsDraining => Volatile.Read(ref _drain) is { Task.IsCompleted: false };

    /// <inheritdoc />
    public int RunningCount => _registry.RunningCount();

    /// <inheritdoc />
    public TaskPage GetTasks(TaskQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Skip < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Skip, "TaskQuery.Skip must not be negative.");
        }

        if (query.Take is < 0 or > TaskQuery.MaxTake)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Take, $"TaskQuery.Take must be 0 to {TaskQuery.MaxTake}.");
        }

        // One pass over the registry keeps the Skip + Take tasks that come first in the chosen order in a bounded heap:
        // memory is bounded by the page, not by the number of tasks tracked (100,000 is the scale this is built for).
        int keep = (int)Math.Min(int.MaxValue, (long)query.Skip + query.Take);
        var visitor = new PageVisitor(query, keep);
        _registry.ForEach(ref visitor);

        int onPage = Math.Max(0, Math.Min(query.Take, visitor.Heap.Count - query.Skip));
        var items = new SupervisedTaskInfo[onPage];
        long now = TimeProvider.GetTimestamp();

        // The heap's root is the candidate that comes last in the order; dequeuing fills the kept range from its end.
        int position = visitor.Heap.Count;
        while (visitor.Heap.TryDequeue(out Candidate candidate, out _))
        {
            position--;
            int index = position - query.Skip;
            if (index >= 0 && index < onPage)
            {
                items[index] = candidate.Task.ToInfo(now, candidate.Status);
            }
        }

        return new TaskPage(items, visitor.Matched);
    }

    /// <inheritdoc />
    public Task<CancelWhereResult> CancelWhereAsync(Func<string, bool> keyMatches, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyMatches);
        Guard.Timeout(timeout);

        // Copy the keyed tasks under the registry's locks, then ask the predicate outside them: user code never runs
        // under a lock. The registry, not the key table, so that a task waiting behind another of the same key
        // (KeyConflictBehavior.Enqueue) is found along with the one it waits for.
        var keyed = new KeyedVisitor { Tasks = [] };
        _registry.ForEach(ref keyed);
        var matched = new List<SupervisedTask>();
        foreach (SupervisedTask task in keyed.Tasks)
        {
            if (keyMatches(task.Key!))
            {
                matched.Add(task);
            }
        }

        // Pending tasks first, as a drain does: a task waiting for its predecessor under the same key is cancelled
        // before that predecessor ends, so it never starts.
        foreach (SupervisedTask task in matched)
        {
            if (task.Status == SupervisedTaskStatus.Pending)
            {
                task.SignalCancellation();
            }
        }

        foreach (SupervisedTask task in matched)
        {
            task.SignalCancellation();
        }

        return matched.Count == 0 ? Task.FromResult(default(CancelWhereResult)) : WaitForCancelledAsync(matched, timeout, cancellationToken);
    }

    private async Task<CancelWhereResult> WaitForCancelledAsync(List<SupervisedTask> tasks, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await WaitAsync(WhenAllEnded(tasks), timeout, cancellationToken).ConfigureAwait(false);
        int ranToCompletion = 0, canceled = 0, faulted = 0;
        foreach (SupervisedTask task in tasks)
        {
            // Ended means published: its cleanup and callbacks have run (the handle's Task completes only then).
            if (!task.Task.IsCompleted)
            {
                continue;
            }

            switch (task.Status)
            {
                case SupervisedTaskStatus.RanToCompletion:
                    ranToCompletion++;
                    break;
                case SupervisedTaskStatus.Canceled:
                    canceled++;
                    break;
                default:
                    faulted++;
                    break;
            }
        }

        return new CancelWhereResult(tasks.Count, ranToCompletion, canceled, faulted);
    }

    /// <summary>A task that completes, never faulted, when every one of <paramref name="tasks"/> has ended.</summary>
    private static Task WhenAllEnded(List<SupervisedTask> tasks)
    {
        // Not Task.WhenAll: it would fault with the tasks' exceptions, already reported, and leave them unobserved.
        var all = new AllEnded(tasks.Count);
        foreach (SupervisedTask task in tasks)
        {
            task.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().UnsafeOnCompleted(all.OnEnded);
        }

        return all.Completion.Task;
    }

    private sealed class AllEnded(int count)
    {
        private int _remaining = count;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnEnded()
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                Completion.TrySetResult();
            }
        }
    }

    private readonly record struct Candidate(SupervisedTask Task, SupervisedTaskStatus Status);

    /// <summary>Counts the matching tasks and keeps the first <c>keep</c> of them in the query's order.</summary>
    private struct PageVisitor(TaskQuery query, int keep) : ITaskVisitor
    {
        // A heap whose root is the kept candidate that comes last in the order, so that a better one replaces it in
        // O(log keep). Oldest first keeps the smallest ids: the root must be the largest, so the priority is -id.
        public readonly PriorityQueue<Candidate, long> Heap = new(Math.Min(keep, TaskQuery.MaxTake) + 1);

        public int Matched;

        public void Visit(SupervisedTask task)
        {
            SupervisedTaskStatus status = task.Status;
            if (query.Status is { } wanted && status != wanted)
            {
                return;
            }

            if (query.KeyPrefix is { } prefix && (task.Key is not { } key || !key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                return;
            }

            Matched++;
            if (keep == 0)
            {
                return;
            }

            long priority = query.NewestFirst ? task.Id : -task.Id;
            if (Heap.Count < keep)
            {
                Heap.Enqueue(new Candidate(task, status), priority);
            }
            else if (Heap.TryPeek(out _, out long worst) && priority > worst)
            {
                Heap.EnqueueDequeue(new Candidate(task, status), priority);
            }
        }
    }

    private struct KeyedVisitor : ITaskVisitor
    {
        public List<SupervisedTask> Tasks;

        public readonly void Visit(SupervisedTask task)
        {
            if (task.Key is not null && !task.IsEnded)
            {
                Tasks.Add(task);
            }
        }
    }
}
