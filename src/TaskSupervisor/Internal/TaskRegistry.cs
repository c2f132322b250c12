using System.Diagnostics;
using System.Numerics;

namespace TaskSupervision.Internal;

/// <summary>
/// Every task a supervisor tracks, so that a drain can cancel them and report stragglers, and waits for the tasks
/// tracked at one moment (<see cref="WhenIdle"/>). Tasks are kept in intrusive doubly linked lists (the links live in
/// the handle, so tracking allocates nothing) spread over stripes chosen by the starting thread: a thread that starts
/// many tasks keeps adding to the same stripe (its lock and head stay in that core's cache), two threads starting at
/// once almost never share a lock, and there is no global lock.
/// </summary>
internal sealed class TaskRegistry
{
    private readonly Stripe[] _stripes;
    private readonly int _mask;

    // The tally of the drain in progress, set once before the drain marks the tasks it counts.
    private DrainTally? _tally;

    public TaskRegistry()
    {
        int count = (int)Math.Min(256, BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, Environment.ProcessorCount * 4)));
        _stripes = new Stripe[count];
        for (int i = 0; i < count; i++)
        {
            _stripes[i] = new Stripe(i);
        }

        _mask = count - 1;
    }

    public void Add(SupervisedTask task)
    {
        // The stripe is remembered in the handle (a byte in the padding after its status) for the removal.
        task.RegistryStripe = (byte)(Environment.CurrentManagedThreadId & _mask);
        Stripe stripe = StripeOf(task);
        lock (stripe)
        {
            stripe.AssertInvariants();
            Debug.Assert(!task.IsRegistered, "A task is registered once.");
            task.RegistryNext = stripe.Head;
            if (stripe.Head is not null)
            {
                stripe.Head.RegistryPrevious = task;
            }

            stripe.Head = task;
            task.IsRegistered = true;
        }
    }

    /// <summary>
    /// Removes an ended task. If a drain counted it, its outcome is tallied under the same lock, so that the drain's
    /// report, which reads the tally and the stragglers under every stripe's lock, counts each task exactly once.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="status">How it ended; <see langword="null"/> when it was never admitted (the supervisor closed first).</param>
    /// <returns>The idle waits that this removal completed; the caller completes them once the task is forgotten.</returns>
    public List<IdleWait>? Remove(SupervisedTask task, SupervisedTaskStatus? status)
    {
        Stripe stripe = StripeOf(task);
        lock (stripe)
        {
            stripe.AssertInvariants();
            if (!task.IsRegistered)
            {
                return null;
            }

            if (task.InDrain)
            {
                _tally!.Record(status);
            }

            List<IdleWait>? done = stripe.Groups is { Count: > 0 } ? stripe.PassBoundary(task) : null;
            if (task.RegistryPrevious is null)
            {
                stripe.Head = task.RegistryNext;
            }
            else
            {
                task.RegistryPrevious.RegistryNext = task.RegistryNext;
            }

            if (task.RegistryNext is not null)
            {
                task.RegistryNext.RegistryPrevious = task.RegistryPrevious;
            }

            task.RegistryPrevious = null;
            task.RegistryNext = null;
            task.IsRegistered = false;
            return done;
        }
    }

    /// <summary>
    /// A wait for every task registered at the call to be removed (to have ended and been forgotten). A cancelled wait
    /// detaches at once.
    /// </summary>
    /// <remarks>
    /// Each stripe is a list with the newest task at its head, so "the tasks registered at the call" are, per stripe, the
    /// head at that moment and everything after it. The wait joins the group of waits that stand on that head (its
    /// boundary). When a boundary task is removed, its group moves to the next older task (merging, smaller into larger,
    /// with a group already standing there); when it falls off the end, the stripe is done for every wait of the group.
    /// A task end costs one dictionary look-up while any wait is attached to its stripe, never a scan of the waits.
    /// </remarks>
    public Task WhenIdle(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var wait = new IdleWait(_stripes.Length);
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe)
            {
                stripe.AssertInvariants();
                if (stripe.Head is { } head)
                {
                    stripe.Join(wait, head);
                    Interlocked.Increment(ref wait.Remaining);
                }
            }
        }

        if (Interlocked.Decrement(ref wait.Remaining) == 0)
        {
            wait.Completion.TrySetResult();
            return wait.Completion.Task;
        }

        if (cancellationToken.CanBeCanceled)
        {
            wait.Cancellation = cancellationToken.UnsafeRegister(
                static (s, token) => ((TaskRegistry.IdleWaitCancel)s!).Cancel(token),
                new IdleWaitCancel(this, wait));
        }

        return wait.Completion.Task;
    }

    /// <summary>A copy of the tracked tasks, stripe by stripe. Each stripe is copied under its lock; no user code runs there.</summary>
    public List<SupervisedTask> Snapshot()
    {
        var tasks = new List<SupervisedTask>();
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe)
            {
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    tasks.Add(task);
                }
            }
        }

        return tasks;
    }

    /// <summary>The task's work is about to run: counted as running in its stripe until <see cref="OnLeftRunning"/>.</summary>
    /// <remarks>
    /// One counter per stripe, not one per supervisor: a task's attempt starts and ends on thread-pool threads, and a
    /// single shared word written by every attempt of every task would be the one cache line all cores fight over.
    /// </remarks>
    public void OnRunning(SupervisedTask task) => Interlocked.Increment(ref StripeOf(task).Running.Value);

    /// <summary>The task's attempt has ended (the task ended, or waits out a restart delay).</summary>
    public void OnLeftRunning(SupervisedTask task) => Interlocked.Decrement(ref StripeOf(task).Running.Value);

    /// <summary>
    /// The number of tasks whose work is running: the sum of the stripes' counters, each read once. Not a snapshot
    /// across stripes: a task that moves while they are read may be counted in neither state or, briefly, twice.
    /// </summary>
    public int RunningCount()
    {
        long sum = 0;
        foreach (Stripe stripe in _stripes)
        {
            sum += Volatile.Read(ref stripe.Running.Value);
        }

        return (int)Math.Max(0, sum);
    }

    /// <summary>
    /// Shows every tracked task to <paramref name="visitor"/>, stripe by stripe under each stripe's lock. The visitor is
    /// the library's own short code, never a user's (which must not run under a lock): it copies what it needs.
    /// </summary>
    public void ForEach<TVisitor>(ref TVisitor visitor)
        where TVisitor : struct, ITaskVisitor
    {
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe)
            {
                stripe.AssertInvariants();
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    visitor.Visit(task);
                }
            }
        }
    }

    /// <summary>
    /// Marks every registered task as counted by the drain whose tally is <paramref name="tally"/>, and returns them.
    /// Called once, after the supervisor closed: every task registered now was admitted before the close, or is being
    /// turned away (then <see cref="Remove"/> tallies it as not admitted).
    /// </summary>
    public List<SupervisedTask> MarkForDrain(DrainTally tally)
    {
        Volatile.Write(ref _tally, tally);
        var tasks = new List<SupervisedTask>();
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe)
            {
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    task.InDrain = true;
                    tasks.Add(task);
                }
            }
        }

        return tasks;
    }

    /// <summary>
    /// The drain's closing cut: under every stripe's lock at once (taken in order; a removal takes only one), the tally and
    /// the tasks the drain counted that are still registered, so that no task is in both or in neither.
    /// </summary>
    public (DrainTally.Counts Counts, List<SupervisedTask> Stragglers) CloseDrain()
    {
        var stragglers = new List<SupervisedTask>();
        int locked = 0;
        try
        {
            foreach (Stripe stripe in _stripes)
            {
                Monitor.Enter(stripe);
                locked++;
            }

            foreach (Stripe stripe in _stripes)
            {
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    if (task.InDrain)
                    {
                        stragglers.Add(task);
                    }
                }
            }

            return (_tally!.Read(), stragglers);
        }
        finally
        {
            for (int i = locked - 1; i >= 0; i--)
            {
                Monitor.Exit(_stripes[i]);
            }
        }
    }

    /// <summary>The idle waits attached now, over every stripe (a wait attached to several stripes counts once per stripe).</summary>
    public int AttachedWaits()
    {
        int count = 0;
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe)
            {
                if (stripe.Groups is { } groups)
                {
                    foreach (WaitGroup group in groups.Values)
                    {
                        count += group.Waits.Count;
                    }
                }
            }
        }

        return count;
    }

    private Stripe StripeOf(SupervisedTask task) => _stripes[task.RegistryStripe];

    private void Detach(IdleWait wait)
    {
        for (int i = 0; i < _stripes.Length; i++)
        {
            if (Volatile.Read(ref wait.Groups[i]) is null)
            {
                continue;
            }

            Stripe stripe = _stripes[i];
            lock (stripe)
            {
                stripe.AssertInvariants();
                stripe.Leave(wait);
            }
        }
    }

    private sealed class Stripe(int index)
    {
        public readonly int Index = index;

        public SupervisedTask? Head;

        /// <summary>
        /// Tasks of this stripe whose work is running; changed with atomic operations, not under the lock. On a cache line
        /// of its own: the pool threads that run the tasks change it, while the starting thread takes the stripe's lock
        /// (in the object's header) and writes its head, and sharing one line would move it between cores twice per task.
        /// </summary>
        public PaddedCounter Running;

        /// <summary>The groups of idle waits in this stripe, by the task they stand on; guarded by the stripe's lock.</summary>
        public Dictionary<SupervisedTask, WaitGroup>? Groups;

        public void Join(IdleWait wait, SupervisedTask boundary)
        {
            Groups ??= new Dictionary<SupervisedTask, WaitGroup>(ReferenceEqualityComparer.Instance);
            if (!Groups.TryGetValue(boundary, out WaitGroup? group))
            {
                group = new WaitGroup(boundary);
                Groups.Add(boundary, group);
            }

            group.Waits.Add(wait);
            wait.Groups[Index] = group;
        }

        /// <summary>A cancelled wait leaves its group in this stripe, if it is still in one.</summary>
        public void Leave(IdleWait wait)
        {
            if (wait.Groups[Index] is not { } group)
            {
                return;
            }

            wait.Groups[Index] = null;
            group.Waits.Remove(wait);
            if (group.Waits.Count == 0)
            {
                Groups!.Remove(group.Boundary);
            }
        }

        /// <summary>Moves the group standing on <paramref name="task"/> to the next older task; returns the waits now done.</summary>
        public List<IdleWait>? PassBoundary(SupervisedTask task)
        {
            if (!Groups!.Remove(task, out WaitGroup? group))
            {
                return null;
            }

            // Everything after the task in the list is older: registered before the waits came, so waited for.
            if (task.RegistryNext is { } next)
            {
                if (Groups.TryGetValue(next, out WaitGroup? there))
                {
                    // Merge the smaller group into the larger: a wait moves O(log n) times in all, whatever the order.
                    (WaitGroup large, WaitGroup small) = there.Waits.Count >= group.Waits.Count ? (there, group) : (group, there);
                    foreach (IdleWait wait in small.Waits)
                    {
                        large.Waits.Add(wait);
                        wait.Groups[Index] = large;
                    }

                    group = large;
                }

                group.Boundary = next;
                Groups[next] = group;
                return null;
            }

            List<IdleWait>? done = null;
            foreach (IdleWait wait in group.Waits)
            {
                wait.Groups[Index] = null;
                if (Interlocked.Decrement(ref wait.Remaining) == 0)
                {
                    (done ??= []).Add(wait);
                }
            }

            return done;
        }

        [Conditional("DEBUG")]
        public void AssertInvariants()
        {
            Debug.Assert(Monitor.IsEntered(this), "The stripe's lock is held.");
            Debug.Assert(Head is null || Head.RegistryPrevious is null, "The head has no previous task.");
        }
    }

    /// <summary>The idle waits standing on one task of a stripe.</summary>
    internal sealed class WaitGroup(SupervisedTask boundary)
    {
        public SupervisedTask Boundary = boundary;

        public readonly HashSet<IdleWait> Waits = new(ReferenceEqualityComparer.Instance);
    }

    /// <summary>What a wait's token runs: detach the wait from every stripe, then end it canceled.</summary>
    private sealed class IdleWaitCancel(TaskRegistry registry, IdleWait wait)
    {
        public void Cancel(CancellationToken token)
        {
            registry.Detach(wait);
            wait.Completion.TrySetCanceled(token);
        }
    }

    /// <summary>A wait for the tasks registered at one moment: its group in each stripe, and the stripes left.</summary>
    internal sealed class IdleWait(int stripes)
    {
        public readonly WaitGroup?[] Groups = new WaitGroup?[stripes];

        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Cancellation;

        // The stripes not yet done, plus one held while the wait is being attached, so that it cannot finish early.
        public int Remaining = 1;

        /// <summary>Completes the wait; called only after the task whose removal finished it is forgotten.</summary>
        public void Complete()
        {
            Cancellation.Dispose();
            Completion.TrySetResult();
        }
    }
}

/// <summary>What <see cref="TaskRegistry.ForEach{TVisitor}(ref TVisitor)"/> calls for each tracked task, under a stripe's lock.</summary>
internal interface ITaskVisitor
{
    void Visit(SupervisedTask task);
}
