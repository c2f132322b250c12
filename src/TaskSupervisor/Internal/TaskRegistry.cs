using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TaskSupervision.Internal;

/// <summary>
/// Every task a supervisor tracks, so that a drain can cancel them and report stragglers, and waits for the tasks
/// tracked at one moment (<see cref="WhenIdle"/>). Tasks are kept in intrusive doubly linked lists (the links live in
/// the handle, so tracking allocates nothing) spread over stripes chosen by the starting thread: a thread that starts
/// many tasks keeps adding to the same stripe (its lock and head stay in that core's cache), two threads starting at
/// once almost never share a lock, and there is no global lock. A keyed task is kept in its key's stripe instead, beside
/// its key: the key table is the stripes' dictionaries. Each stripe is guarded by a spin lock
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

    /// <summary>The number of tracked tasks: the sum of the stripes' counts, each exact, read one after another.</summary>
    public int Count
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

    /// <summary>
    /// Tracks <paramref name="task"/> unless the registry is closed: the check and the admission are one step. A keyed
    /// task is also given its key in the same step, if nobody holds it.
    /// </summary>
    /// <param name="task">The new task.</param>
    /// <param name="keyHolder">The task that holds the key of <paramref name="task"/> already, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> if the registry is closed; the task was not tracked.</returns>
    public bool TryAdmit(SupervisedTask task, out SupervisedTask? keyHolder)
    {
        keyHolder = null;

        // The stripe is remembered in the handle (a byte in the padding after its status) for the removal. A keyed task
        // goes to its key's stripe, so that its key and its link share one lock and one cache line.
        task.RegistryStripe = (byte)((task.Key is { } key ? key.GetHashCode() : Environment.CurrentManagedThreadId) & _mask);
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
            if (task.Key is { } taskKey)
            {
                keyHolder = AddKey(stripe, taskKey, task);
            }

            return true;
        }
    }

    /// <summary>Gives the key of the admitted task <paramref name="task"/> to it, if nobody holds the key.</summary>
    /// <returns>The task holding the key already, or <see langword="null"/> if <paramref name="task"/> took it.</returns>
    public SupervisedTask? TryAddKey(SupervisedTask task)
    {
        Stripe stripe = StripeOf(task);
        using (stripe.Acquire())
        {
            return AddKey(stripe, task.Key!, task);
        }
    }

    /// <summary>The task holding <paramref name="key"/>, if any.</summary>
    public bool TryGetKey(string key, [NotNullWhen(true)] out SupervisedTask? task)
    {
        Stripe stripe = _stripes[key.GetHashCode() & _mask];
        using (stripe.Acquire())
        {
            task = null;
            return stripe.Keys is { } keys && keys.TryGetValue(key, out task);
        }
    }

    /// <summary>Hands the key from <paramref name="current"/> to <paramref name="task"/> (same key), if <paramref name="current"/> still holds it.</summary>
    public bool TryUpdateKey(SupervisedTask task, SupervisedTask current)
    {
        Debug.Assert(task.Key == current.Key && task.RegistryStripe == current.RegistryStripe, "One key, one stripe.");
        Stripe stripe = StripeOf(task);
        using (stripe.Acquire())
        {
            ref SupervisedTask holder = ref stripe.Keys is { } keys ? ref CollectionsMarshal.GetValueRefOrNullRef(keys, task.Key!) : ref Unsafe.NullRef<SupervisedTask>();
            if (Unsafe.IsNullRef(ref holder) || holder != current)
            {
                return false;
            }

            holder = task;
            return true;
        }
    }

    /// <summary>Releases the task's key, only if the key still maps to this task: a successor may already own it.</summary>
    public void ReleaseKey(SupervisedTask task)
    {
        if (task.Key is not { } key)
        {
            return;
        }

        Stripe stripe = StripeOf(task);
        using (stripe.Acquire())
        {
            // One look-up in the usual case, where the task still holds its key; a successor's is put back.
            if (stripe.Keys is { } keys && keys.Remove(key, out SupervisedTask? holder) && holder != task)
            {
                keys.Add(key, holder);
            }
        }
    }

    /// <summary>
    /// Closes the registry to new tasks and counts the tasks it tracks. <paramref name="idle"/> is true when none is
    /// left; otherwise the removal that leaves none says so (<see cref="Removal.LastAfterClose"/>). Called once.
    /// </summary>
    public int Close(out bool idle)
    {
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

            if (task.InDrain)
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
    /// Marks every registered task as counted by the drain whose tally is <paramref name="tally"/>, and returns them in
    /// the order the drain cancels them: the pending ones first (a replacement waiting for its predecessor is cancelled
    /// before the predecessor ends), then the rest. Called once, after the registry closed: every task registered now
    /// was admitted before the close. One walk, which touches each task once: a drain of many tasks is bound by the
    /// cache misses of reading them, not by the instructions.
    /// </summary>
    public List<SupervisedTask> MarkForDrain(DrainTally tally)
    {
        Volatile.Write(ref _tally, tally);
        var pending = new List<SupervisedTask>();
        var rest = new List<SupervisedTask>(Count);
        foreach (Stripe stripe in _stripes)
        {
            using (stripe.Acquire())
            {
                for (SupervisedTask? task = stripe.Head; task is not null; task = task.RegistryNext)
                {
                    task.InDrain = true;
                    (task.Status == SupervisedTaskStatus.Pending ? pending : rest).Add(task);
                }
            }
        }

        if (pending.Count == 0)
        {
            return rest;
        }

        pending.AddRange(rest);
        return pending;
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
                stripe.Enter();
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
                _stripes[i].Exit();
            }
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

    // A keyed task's stripe comes from its key's hash, the string's randomized one: keys chosen by an attacker cannot pile
    // into one stripe.
    private Stripe StripeOf(SupervisedTask task) => _stripes[task.RegistryStripe];

    /// <summary>Gives <paramref name="key"/> to <paramref name="task"/> unless a task holds it; returns that task, or <see langword="null"/>. Under the stripe's lock.</summary>
    private static SupervisedTask? AddKey(Stripe stripe, string key, SupervisedTask task)
    {
        ref SupervisedTask? holder = ref CollectionsMarshal.GetValueRefOrAddDefault(stripe.Keys ??= new Dictionary<string, SupervisedTask>(StringComparer.Ordinal), key, out bool exists);
        if (exists)
        {
            return holder;
        }

        holder = task;
        return null;
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

        /// <summary>
        /// The keys held by the tasks of this stripe (a keyed task is in its key's stripe), created on first use. No
        /// allocation per key, unlike a <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>'s
        /// 48-byte node.
        /// </summary>
        public Dictionary<string, SupervisedTask>? Keys;

        /// <summary>The tasks in this stripe; written under the lock, read without it by <see cref="TaskRegistry.Count"/>.</summary>
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
