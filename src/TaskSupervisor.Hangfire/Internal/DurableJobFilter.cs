using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;

namespace TaskSupervision.Hangfire.Internal;

/// <summary>
/// The Hangfire side of durable work: when a server runs a durable job it counts the delivery and sets
/// <see cref="DurableWorkContext.Current"/>; when the job succeeds there, it frees the job's key.
/// </summary>
internal sealed class DurableJobFilter : JobFilterAttribute, IServerFilter, IApplyStateFilter
{
    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>Adds the filter to Hangfire's global filters once per process; later calls add nothing.</summary>
    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (!_registered)
            {
                GlobalJobFilters.Filters.Add(new DurableJobFilter());
                _registered = true;
            }
        }
    }

    public void OnPerforming(PerformingContext context)
    {
        string? key = context.GetJobParameter<string>(DurableWorkConstants.KeyParameter);
        if (key is null)
        {
            return;
        }

        int delivery = context.GetJobParameter<int>(DurableWorkConstants.DeliveriesParameter) + 1;
        context.SetJobParameter(DurableWorkConstants.DeliveriesParameter, delivery);

        // Hangfire calls the job's method on this flow right after its server filters, so the value reaches it.
        DurableWorkContext.Current = new DurableWorkContext(key, context.BackgroundJob.Id, delivery, isInProcess: false);
    }

    public void OnPerformed(PerformedContext context) => DurableWorkContext.Current = null;

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState is not SucceededState)
        {
            return;
        }

        string? key = context.GetJobParameter<string>(DurableWorkConstants.KeyParameter, allowStale: true);
        if (key is null)
        {
            return;
        }

        // A server finished the work: its key record goes with the state change, unless a later start took the key.
        string resource = DurableWorkConstants.KeyResourcePrefix + key;
        Dictionary<string, string>? record = context.Connection.GetAllEntriesFromHash(resource);
        if (record is not null && record.TryGetValue(DurableWorkConstants.KeyJobIdField, out string? holder) && holder == context.BackgroundJob.Id)
        {
            transaction.RemoveHash(resource);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
