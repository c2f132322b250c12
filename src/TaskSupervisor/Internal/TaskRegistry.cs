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
            _stripes[i] = new Stripe();
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
        lock (stripe)
        {
            stripe.AssertInvariants();
            if (!task.IsRegistered)
            {
                return;
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

    private Stripe StripeOf(SupervisedTask task) => _stripes[task.RegistryStripe];

    private sealed class Stripe
    {
        public SupervisedTask? Head;

        [Conditional("DEBUG")]
        public void AssertInvariants()
        {
            Debug.Assert(Monitor.IsEntered(this), "The stripe's lock is held.");
            Debug.Assert(Head is null || Head.RegistryPrevious is null, "The head has no previous task.");
        }
    }
}
