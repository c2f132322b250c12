using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace TaskSupervision.Internal;

/// <summary>
/// Every task a supervisor tracks, so that a drain can cancel them and report stragglers, and waits for the tasks
/// tracked at one moment (<see cref="WhenIdle"/>). Tasks are kept in intrusive doubly linked lists (the links live in
/// the handle, so tracking allocates nothing) spread over stripes chosen by the starting thread: a thread that starts
/// many tasks keeps adding to the same stripe (its lock and head stay in that core's cache), two threads starting at
/// once almost never share a lock, and there is no global lock. Each stripe is guarded by a spin lock
/// (<see cref="SpinGuarded"/>), not a <see cref="Monitor"/>: its sections are a few instructions long.
/// </summary>
internal sealed class TaskRegistry
{
    private readonly Stripe[] _stripes;
    private readonly int _mask;

    // Attempts counted as running, one padded counter per stripe index (see OnRunning): apart from the stripes, whose
    // lines the starting threads write.
    private readonly PaddedCounter[] _running;

    // The tally of the drain in progress, set once before the drain marks the tasks it counts.
    private DrainTally? _tally;

    // Set once by Close, before it takes any stripe's lock; read under a stripe's lock by every admission.
    private int _closed;

    // After Close: the tasks counted at the close and not yet removed, plus one held by Close while it counts.
    private int _leftAfterClose = 1;

    public TaskRegistry()
    {
        int count = (int)Math.Min(256, BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, Environment.ProcessorCount * 4)));
        _stripes = new Stripe[count];
        for (int i = 0; i < count; i++)
        {
            _stripes[i] = new Stripe(i);
        }

        _mask = count - 1;
        _running = new PaddedCounter[count];
    }

    /// <summary>Whether <see cref="Close"/> has been called: no task is admitted any more.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>
    /// The number of tracked tasks at one moment: the stripes' counts summed under all their locks at once
    /// (<see cref="LockAll"/>). A sum read stripe after stripe could see a zero that never was: a task that starts another
    /// and then ends can be counted in neither stripe. A start or an end waits at most for the sum.
    /// </summary>
    public int Count
    {
        get
        {
            using (LockAll())
            {
                int sum = 0;
                foreach (Stripe stripe in _stripes)
                {
                    sum += stripe.Count;
                }

                return sum;
            }
        }
    }

    /// <summary>The stripes' counts read one after another, without their locks: a size hint, not a count.</summary>
    private int RoughCount
    {
        get
        {
            int sum = 0;
            foreach (Stripe stripe in _stripes)
            {
                sum += Volatile.Read(ref stripe.Count);
            }

            return sum;
        }
    }

    /// <summary>Tracks <paramref name="task"/> unless the registry is closed: the check and the admission are one step.</summary>
    /// <returns><see langword="false"/> if the registry is closed; the task was not tracked.</returns>
    public bool TryAdmit(SupervisedTask task)
    {
        // The stripe is remembered in the handle (a byte in the padding after its status) for the removal.
        task.RegistryStripe = (byte)(Environment.CurrentManagedThreadId & _mask);
        Stripe stripe = StripeOf(task);
        using (stripe.Acquire())
        {
            stripe.AssertInvariants();
            Debug.Assert(!task.IsRegistered, "A task is registered once.");

            // Close sets the flag before it takes any stripe's lock: a start under this lock either sees the flag, or
            // is seen by the close when it counts this stripe.
            if (Volatile.Read(ref _closed) != 0)
            {
                return false;
            }

            task.RegistryNext = stripe.Head;
            if (stripe.Head is not null)
            {
                stripe.Head.RegistryPrevious = task;
            }

            stripe.Head = task;
            task.IsRegistered = true;
            stripe.Count++;
            return true;
        }
    }

    /// <summary>
    /// Closes the registry to new tasks and counts the tasks it tracks: each of them is tallied in
    /// <paramref name="tally"/> when it is removed, so that a drain's report counts exactly the tasks counted here.
    /// <paramref name="idle"/> is true when none is left; otherwise the removal that leaves none says so
    /// (<see cref="Removal.LastAfterClose"/>). Called once.
    /// </summary>
    public int Close(DrainTally tally, out bool idle)
    {
        Volatile.Write(ref _tally, tally);
        Interlocked.Exchange(ref _closed, 1);
        int count = 0;
        foreach (Stripe stripe in _stripes)
        {
            using (stripe.Acquire())
            {
                // Counted under the stripe's lock, before any removal it sees: the tally never drops below the hold.
                stripe.CountedAtClose = true;
                count += stripe.Count;
                Interlocked.Add(ref _leftAfterClose, stripe.Count);
            }
        }

        // Let go of the hold: if every task was removed meanwhile (or there was none), the registry is idle now.
        idle = Interlocked.Decrement(ref _leftAfterClose) == 0;
        return count;
    }

    /// <summary>What a removal left to do once the task is forgotten.</summary>
    /// <param name="IdleWaits">The idle waits that this removal completed.</param>
    /// <param name="LastAfterClose">The registry was closed, and this was the last task it tracked.</param>
    /// <param name="StripeEmptied">The task's stripe tracks no task now (a moment the whole count may be zero).</param>
    internal readonly record struct Removal(List<IdleWait>? IdleWaits, bool LastAfterClose, bool StripeEmptied);

    /// <summary>
    /// Removes an ended task. If a drain counted it, its outcome is tallied under the same lock, so that the drain's
    /// report, which reads the tally and the stragglers under every stripe's lock, counts each task exactly once.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="status">How it ended.</param>
    public Removal Remove(SupervisedTask task, SupervisedTaskStatus status)
    {
        Stripe stripe = StripeOf(task);
        List<IdleWait>? done;
        bool countedAtClose;
        int left;
        using (stripe.Acquire())
        {
            stripe.AssertInvariants();
            if (!task.IsRegistered)
            {
                return default;
            }

            if (stripe.CountedAtClose)
            {
                _tally!.Record(status);
            }

            // A flag of the task, not a look-up: a task end costs nothing more while idle waits are attached, unless waits stand on it.
            done = task.IsWaitBoundary ? stripe.PassBoundary(task) : null;
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
            left = --stripe.Count;
            countedAtClose = stripe.CountedAtClose;
        }

        bool last = countedAtClose && Interlocked.Decrement(ref _leftAfterClose) == 0;
        if (left == 0)
        {
            // A full fence between this stripe's count and what the caller reads next (the quiescence waits, the other
            // stripes' counts): see QuiescenceWaits. Only when the stripe emptied, which a busy stripe rarely does.
            Interlocked.MemoryBarrier();
        }

        return new Removal(done, last, left == 0);
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
            using (stripe.Acquire())
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
            using (stripe.Acquire())
            {
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    tasks.Add(task);
                }
            }
        }

        return tasks;
    }

    /// <summary>The task's work is about to run: counted as running until <see cref="OnLeftRunning"/>.</summary>
    /// <remarks>
    /// One counter per stripe, chosen by the calling thread, not by the task: an attempt starts and ends on pool threads,
    /// and a counter shared by every attempt of every task, or by every task a thread started, would be a cache line the
    /// pool threads fight over. A task counted up on one thread and down on another leaves one counter above and one
    /// below: only the sum means anything.
    /// </remarks>
    public void OnRunning() => Interlocked.Increment(ref CurrentThreadCounter());

    /// <summary>The task's attempt has ended (the task ended, or waits out a restart delay).</summary>
    public void OnLeftRunning() => Interlocked.Decrement(ref CurrentThreadCounter());

    /// <summary>
    /// The number of tasks whose work is running: the sum of the counters, each read once. Not a snapshot
    /// across stripes: a task that moves while they are read may be counted in neither state or, briefly, twice.
    /// </summary>
    public int RunningCount()
    {
        long sum = 0;
        for (int i = 0; i < _running.Length; i++)
        {
            sum += Volatile.Read(ref _running[i].Value);
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
            using (stripe.Acquire())
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
    /// The tasks registered now, in the order the drain cancels them: the pending ones first (a replacement waiting for
    /// its predecessor is cancelled before the predecessor ends), then the rest. Called once, after <see cref="Close"/>:
    /// every task registered now was counted there. One walk, which touches each task once: a drain of many tasks is
    /// bound by the cache misses of reading them, not by the instructions.
    /// </summary>
    public List<SupervisedTask> MarkForDrain()
    {
        var pending = new Runs(0);
        var rest = new Runs(RoughCount);
        foreach (Stripe stripe in _stripes)
        {
            using (stripe.Acquire())
            {
                pending.BeginRun();
                rest.BeginRun();
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    (task.Status == SupervisedTaskStatus.Pending ? pending : rest).Add(task);
                }
            }
        }

        List<SupervisedTask> ordered = rest.NewestFirst();
        if (pending.Tasks.Count == 0)
        {
            return ordered;
        }

        List<SupervisedTask> all = pending.NewestFirst();
        all.AddRange(ordered);
        return all;
    }

    /// <summary>
    /// Tasks collected stripe by stripe, each stripe's run newest first (as a stripe's list is), merged by
    /// <see cref="NewestFirst"/> into one run newest first: the order the tasks were created in, backwards, which is about
    /// the order of their objects in memory. Tasks started by several threads sit in several stripes, and a drain that
    /// cancelled stripe after stripe would jump through memory: measured with 100,000 tasks spread over eight stripes,
    /// 750-880 ns a task that way, 437 merged, against 250-290 for the same tasks in one stripe. One stripe in use (one
    /// starting thread) costs no merge.
    /// </summary>
    private sealed class Runs(int capacity)
    {
        private readonly List<long> _ids = new(capacity);
        private readonly List<int> _starts = [];

        public List<SupervisedTask> Tasks { get; } = new(capacity);

        public void BeginRun() => _starts.Add(Tasks.Count);

        public void Add(SupervisedTask task)
        {
            Tasks.Add(task);
            _ids.Add(task.Id);
        }

        public List<SupervisedTask> NewestFirst()
        {
            var queue = new PriorityQueue<(int Next, int End), long>();
            for (int i = 0; i < _starts.Count; i++)
            {
                int end = i + 1 < _starts.Count ? _starts[i + 1] : Tasks.Count;
                if (_starts[i] < end)
                {
                    queue.Enqueue((_starts[i], end), -_ids[_starts[i]]);
                }
            }

            if (queue.Count <= 1)
            {
                return Tasks;
            }

            var merged = new List<SupervisedTask>(Tasks.Count);
            while (queue.TryDequeue(out (int Next, int End) run, out _))
            {
                merged.Add(Tasks[run.Next]);
                if (run.Next + 1 < run.End)
                {
                    queue.Enqueue((run.Next + 1, run.End), -_ids[run.Next + 1]);
                }
            }

            return merged;
        }
    }

    /// <summary>
    /// The drain's closing cut: under every stripe's lock at once (taken in order; a removal takes only one), the tally and
    /// the tasks still registered (every one counted at the close), so that no task is in both or in neither.
    /// </summary>
    public (DrainTally.Counts Counts, List<SupervisedTask> Stragglers) CloseDrain()
    {
        var stragglers = new List<SupervisedTask>();
        using (LockAll())
        {
            foreach (Stripe stripe in _stripes)
            {
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    stragglers.Add(task); // registered after the close: counted at the close, and not ended
                }
            }

            return (_tally!.Read(), stragglers);
        }
    }

    /// <summary>The idle waits attached now, over every stripe (a wait attached to several stripes counts once per stripe).</summary>
    public int AttachedWaits()
    {
        int count = 0;
        foreach (Stripe stripe in _stripes)
        {
            using (stripe.Acquire())
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

    /// <summary>
    /// Takes every stripe's lock, in order (the only place more than one is held, so no two threads can wait on each
    /// other); the scope releases them. Entering a spin lock does not throw, so no stripe is left locked.
    /// </summary>
    private AllStripes LockAll()
    {
        foreach (Stripe stripe in _stripes)
        {
            stripe.Enter();
        }

        return new AllStripes(_stripes);
    }


    private ref long CurrentThreadCounter() => ref _running[Environment.CurrentManagedThreadId & _mask].Value;

    private void Detach(IdleWait wait)
    {
        for (int i = 0; i < _stripes.Length; i++)
        {
            if (Volatile.Read(ref wait.Groups[i]) is null)
            {
                continue;
            }

            Stripe stripe = _stripes[i];
            using (stripe.Acquire())
            {
                stripe.AssertInvariants();
                stripe.Leave(wait);
            }
        }
    }

    private sealed class Stripe(int index) : SpinGuarded
    {
        public readonly int Index = index;

        public SupervisedTask? Head;

        /// <summary>The tasks in this stripe; guarded by the lock (read without it only as a size hint).</summary>
        public int Count;

        /// <summary>Whether Close has counted this stripe: its later removals count down what the close left.</summary>
        public bool CountedAtClose;

        /// <summary>The groups of idle waits in this stripe, by the task they stand on; guarded by the stripe's lock.</summary>
        public Dictionary<SupervisedTask, WaitGroup>? Groups;

        public void Join(IdleWait wait, SupervisedTask boundary)
        {
            Groups ??= new Dictionary<SupervisedTask, WaitGroup>(ReferenceEqualityComparer.Instance);
            if (!Groups.TryGetValue(boundary, out WaitGroup? group))
            {
                group = new WaitGroup(boundary);
                Groups.Add(boundary, group);
                boundary.IsWaitBoundary = true;
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
                group.Boundary.IsWaitBoundary = false;
            }
        }

        /// <summary>Moves the group standing on <paramref name="task"/> to the next older task; returns the waits now done.</summary>
        public List<IdleWait>? PassBoundary(SupervisedTask task)
        {
            task.IsWaitBoundary = false;
            if (!Groups!.Remove(task, out WaitGroup? group))
            {
                Debug.Fail("A wait boundary has its group.");
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
                next.IsWaitBoundary = true;
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
            Debug.Assert(IsHeld, "The stripe's lock is held.");
            Debug.Assert(Head is null || Head.RegistryPrevious is null, "The head has no previous task.");
        }
    }

    /// <summary>Releases every stripe's lock taken by <see cref="LockAll"/>, in reverse order.</summary>
    private readonly ref struct AllStripes(Stripe[] stripes)
    {
        public void Dispose()
        {
            for (int i = stripes.Length - 1; i >= 0; i--)
            {
                stripes[i].Exit();
            }
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
