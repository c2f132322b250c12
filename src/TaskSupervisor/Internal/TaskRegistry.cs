using System.Diagnostics;
using System.Numerics;

namespace TaskSupervision.Internal;

/// <summary>
/// Every task a supervisor tracks, so that a drain can cancel them and report stragglers. Tasks are kept in intrusive
/// doubly linked lists (the links live in the handle, so tracking allocates nothing) spread over stripes chosen by the
/// starting thread: a thread that starts many tasks keeps adding to the same stripe (its lock and head stay in that
/// core's cache), two threads starting at once almost never share a lock, and there is no global lock.
/// </summary>
internal sealed class TaskRegistry
{
    private readonly Stripe[] _stripes;
    private readonly int _mask;

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

    public void Remove(SupervisedTask task)
    {
        Stripe stripe = StripeOf(task);
        List<IdleWaiter>? idle = null;
        lock (stripe)
        {
            stripe.AssertInvariants();
            if (!task.IsRegistered)
            {
                return;
            }

            if (stripe.Waiters is { Count: > 0 } waiters)
            {
                idle = stripe.PassBoundary(task, waiters);
            }

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
        }

        // Outside the lock: completing a waiter runs nobody's code here (its continuations are asynchronous), but the
        // rule is the rule.
        if (idle is not null)
        {
            foreach (IdleWaiter waiter in idle)
            {
                waiter.Completion.TrySetResult();
            }
        }
    }

    /// <summary>
    /// A task that completes when every task registered at the call has been removed (has ended and been published).
    /// </summary>
    /// <remarks>
    /// Each stripe is a list with the newest task at its head, so "the tasks registered at the call" are, per stripe, the
    /// head at that moment and everything after it. The waiter keeps that head as its boundary in the stripe; when the
    /// boundary task is removed the boundary moves to the next older task, and when it falls off the end the stripe is
    /// done. Waiting costs one object per call, nothing per task, and nothing on the start path.
    /// </remarks>
    public Task WhenIdle()
    {
        var waiter = new IdleWaiter(_stripes.Length);
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe)
            {
                stripe.AssertInvariants();
                if (stripe.Head is not null)
                {
                    waiter.Boundaries[stripe.Index] = stripe.Head;
                    (stripe.Waiters ??= []).Add(waiter);
                    Interlocked.Increment(ref waiter.Remaining);
                }
            }
        }

        if (Interlocked.Decrement(ref waiter.Remaining) == 0)
        {
            waiter.Completion.TrySetResult();
        }

        return waiter.Completion.Task;
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
    public void OnRunning(SupervisedTask task) => Interlocked.Increment(ref StripeOf(task).Running);

    /// <summary>The task's attempt has ended (the task ended, or waits out a restart delay).</summary>
    public void OnLeftRunning(SupervisedTask task) => Interlocked.Decrement(ref StripeOf(task).Running);

    /// <summary>
    /// The number of tasks whose work is running: the sum of the stripes' counters, each read once. Not a snapshot
    /// across stripes: a task that moves while they are read may be counted in neither state or, briefly, twice.
    /// </summary>
    public int RunningCount()
    {
        long sum = 0;
        foreach (Stripe stripe in _stripes)
        {
            sum += Volatile.Read(ref stripe.Running);
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

    private Stripe StripeOf(SupervisedTask task) => _stripes[task.RegistryStripe];

    private sealed class Stripe(int index)
    {
        public readonly int Index = index;

        public SupervisedTask? Head;

        /// <summary>Tasks of this stripe whose work is running; changed with atomic operations, not under the lock.</summary>
        public long Running;

        /// <summary>The idle waiters with a boundary in this stripe; guarded by the stripe's lock.</summary>
        public List<IdleWaiter>? Waiters;

        /// <summary>Moves the boundary of every waiter that stands on <paramref name="task"/>; returns the waiters now done.</summary>
        public List<IdleWaiter>? PassBoundary(SupervisedTask task, List<IdleWaiter> waiters)
        {
            List<IdleWaiter>? done = null;
            for (int i = waiters.Count - 1; i >= 0; i--)
            {
                IdleWaiter waiter = waiters[i];
                if (!ReferenceEquals(waiter.Boundaries[Index], task))
                {
                    continue;
                }

                // Everything after the task in the list is older: registered before the waiter came, so waited for.
                SupervisedTask? next = task.RegistryNext;
                waiter.Boundaries[Index] = next;
                if (next is null)
                {
                    waiters.RemoveAt(i);
                    if (Interlocked.Decrement(ref waiter.Remaining) == 0)
                    {
                        (done ??= []).Add(waiter);
                    }
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

    /// <summary>A wait for the tasks registered at one moment: one boundary per stripe, and the stripes left.</summary>
    private sealed class IdleWaiter(int stripes)
    {
        public readonly SupervisedTask?[] Boundaries = new SupervisedTask?[stripes];

        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The stripes not yet done, plus one held while the waiter is being attached, so that it cannot finish early.
        public int Remaining = 1;
    }
}

/// <summary>What <see cref="TaskRegistry.ForEach{TVisitor}(ref TVisitor)"/> calls for each tracked task, under a stripe's lock.</summary>
internal interface ITaskVisitor
{
    void Visit(SupervisedTask task);
}
