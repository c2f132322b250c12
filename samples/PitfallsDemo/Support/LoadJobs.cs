using TaskSupervision;

namespace PitfallsDemo.Support;

/// <summary>What <c>POST /fixed/jobs</c> answers: the started job's id and kind.</summary>
internal sealed record JobStarted(long TaskId, string Kind);

/// <summary>
/// A route for load and shutdown tests, not a pitfall: each call starts one short supervised job of a random kind, so that a
/// burst of calls leaves work of every kind in flight when the process is told to stop. <see cref="JobAccounting"/> counts
/// each job's start and end, and the shutdown drain prints the balance (<see cref="DrainOnShutdown"/>).
/// </summary>
internal static class LoadJobs
{
    public const string JobName = "load-job";

    private static readonly string[] Kinds = ["completes", "faults", "loops"];

    private static readonly TaskOptions JobOptions = new() { Name = JobName };

    public static RouteGroupBuilder MapLoadJobs(this IEndpointRouteBuilder routes)
    {
        RouteGroupBuilder group = routes.MapGroup("").WithTags("Load");

        // ?kind= picks the kind (completes, faults, loops); without it the kind is random.
        group.MapPost("/fixed/jobs", (string? kind, ITaskSupervisor supervisor, TimeProvider time, JobAccounting accounting) =>
        {
            kind ??= Kinds[Random.Shared.Next(Kinds.Length)];

            // Up to twice JobDelay, at random: however fast the burst, some jobs end on their own and some are still in flight.
            TimeSpan delay = DemoTimings.JobDelay * (2 * Random.Shared.NextDouble());
            Func<CancellationToken, Task>? work = kind switch
            {
                "completes" => ct => CompletesAsync(delay, time, ct),
                "faults" => ct => FaultsAsync(delay, time, ct),
                "loops" => ct => LoopsAsync(time, ct),
                _ => null,
            };
            if (work is null)
            {
                return Results.BadRequest($"unknown kind '{kind}': use completes, faults or loops");
            }

            // Counted only once Run has returned: a start refused (the app is shutting down) is no start.
            SupervisedTask job = supervisor.Run(work, JobOptions);
            accounting.Started();
            return Results.Ok(new JobStarted(job.Id, kind));
        });

        return group;
    }

    private static async Task CompletesAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken) =>
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);

    private static async Task FaultsAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        throw new InvalidOperationException("simulated job failure");
    }

    private static async Task LoopsAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(DemoTimings.JobDelay, time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Counts the load jobs: each successful start (in the route) and each end by how it ended (in the supervisor's
/// <see cref="TaskSupervisorOptions.OnTaskEnded"/>). At shutdown every started job has ended, or is a straggler.
/// </summary>
internal sealed class JobAccounting
{
    /// <summary>Where the shutdown drain prints <see cref="Describe"/>, or <see langword="null"/> for nowhere.</summary>
    public TextWriter? Output { get; init; }

    private int _started;
    private int _completed;
    private int _canceled;
    private int _faulted;

    public void Started() => Interlocked.Increment(ref _started);

    public void Record(TaskEndedArguments ended)
    {
        if (ended.Name != LoadJobs.JobName)
        {
            return;
        }

        switch (ended.Status)
        {
            case SupervisedTaskStatus.RanToCompletion:
                Interlocked.Increment(ref _completed);
                break;
            case SupervisedTaskStatus.Canceled:
                Interlocked.Increment(ref _canceled);
                break;
            default:
                Interlocked.Increment(ref _faulted);
                break;
        }
    }

    /// <summary>The machine-readable balance, one line: <c>started = completed + canceled + faulted + stragglers</c>.</summary>
    public string Describe(DrainReport report)
    {
        int stragglers = report.Stragglers.Count(static s => s.Name == LoadJobs.JobName);
        return $"supervisor accounting: started={Volatile.Read(ref _started)} completed={Volatile.Read(ref _completed)} " +
            $"canceled={Volatile.Read(ref _canceled)} faulted={Volatile.Read(ref _faulted)} stragglers={stragglers}";
    }
}
