using TaskSupervision;
using PitfallsDemo.Pitfalls;

namespace PitfallsDemo.Support;

/// <summary>One supervised task, as <c>/status</c> shows it.</summary>
internal sealed record TaskRow(long Id, string? Key, string? Name, string Status, double AgeMs);

/// <summary>What the broken routes left behind.</summary>
/// <param name="LiveZombieLoops">Broken monitor loops still running (process-wide).</param>
/// <param name="LostExceptions">Mail exceptions that no <c>TaskFaulted</c> log line accounts for.</param>
internal sealed record BrokenSide(int LiveZombieLoops, int LostExceptions);

/// <summary>What the supervisor reported.</summary>
internal sealed record FixedSide(int FaultsLogged, int FailedJobs);

/// <summary>The contrast at a glance: the supervised tasks, and the broken side's leftovers.</summary>
internal sealed record DemoStatus(IReadOnlyList<TaskRow> Supervised, BrokenSide Broken, FixedSide Fixed)
{
    public static DemoStatus Create(ITaskSupervisor supervisor, LogJournal journal, FailedJobs failedJobs, Mailer mailer)
    {
        TaskRow[] rows = [.. supervisor.GetSnapshot()
            .OrderBy(static t => t.Id)
            .Select(static t => new TaskRow(t.Id, t.Key, t.Name, t.Status.ToString(), Math.Round(t.Age.TotalMilliseconds)))];
        int faultsLogged = journal.FaultsLogged.Value;
        return new DemoStatus(
            rows,
            new BrokenSide(ZombieLoops.Live.Value, Math.Max(0, mailer.Rejections.Value - faultsLogged)),
            new FixedSide(faultsLogged, failedJobs.Count));
    }
}
