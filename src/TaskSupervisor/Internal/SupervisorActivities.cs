using System.Diagnostics;

namespace TaskSupervision.Internal;

/// <summary>
/// The activity a supervised task runs under. It is a new root linked to the activity that was current when the task
/// was started (the request), not its child: the request's span usually ends long before its background work, and a
/// child that outlives its parent is drawn wrongly by trace viewers and can be dropped by tail samplers that close the
/// trace with the request. The link still lets a viewer jump from the email task to the request that sent it.
/// </summary>
internal static class SupervisorActivities
{
    public static readonly ActivitySource Source = new(TaskSupervisorDiagnostics.ActivitySourceName, typeof(SupervisorActivities).Assembly.GetName().Version?.ToString());

    // Listeners' callbacks (ActivityStarted, ActivityStopped) are user code: what they throw is swallowed, because
    // tracing must never stop a task from running or ending.

    /// <summary>Starts the task's activity if anyone listens, and makes it current for the work. Allocates nothing otherwise.</summary>
    public static Activity? StartFor(SupervisedTask task, string supervisor)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        try
        {
            return Start(task, supervisor);
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static Activity? Start(SupervisedTask task, string supervisor)
    {
        Activity? startedFrom = Activity.Current;
        Activity.Current = null; // so that the new activity is a root, not a child of the request
        ActivityLink[]? links = startedFrom is null ? null : [new ActivityLink(startedFrom.Context)];
        Activity? activity = Source.StartActivity(TaskSupervisorDiagnostics.ActivityName, ActivityKind.Internal, parentContext: default, tags: null, links: links);
        if (activity is null)
        {
            Activity.Current = startedFrom;
            return null;
        }

        activity.DisplayName = task.Name ?? TaskSupervisorDiagnostics.ActivityName;
        activity.SetTag(TaskSupervisorDiagnostics.SupervisorTag, supervisor);
        activity.SetTag(TaskSupervisorDiagnostics.TaskIdTag, task.Id);
        if (task.Key is not null)
        {
            activity.SetTag(TaskSupervisorDiagnostics.TaskKeyTag, task.Key);
        }

        if (task.Name is not null)
        {
            activity.SetTag(TaskSupervisorDiagnostics.TaskNameTag, task.Name);
        }

        return activity;
    }

    public static void Restarting(Activity activity, Exception? exception, int restartCount, TimeSpan delay)
    {
        try
        {
            AddRestart(activity, exception, restartCount, delay);
        }
        catch (Exception)
        {
            // See above.
        }
    }

    public static void Stop(Activity activity, SupervisedTaskStatus status, Exception? exception, bool gaveUp)
    {
        try
        {
            StopCore(activity, status, exception, gaveUp);
        }
        catch (Exception)
        {
            // See above.
        }
    }

    private static void AddRestart(Activity activity, Exception? exception, int restartCount, TimeSpan delay)
    {
        if (exception is not null)
        {
            activity.AddException(exception);
        }

        activity.AddEvent(new ActivityEvent("task_supervisor.restart", tags: new ActivityTagsCollection
        {
            { "task_supervisor.restart.count", restartCount },
            { "task_supervisor.restart.delay_ms", delay.TotalMilliseconds },
        }));
    }

    private static void StopCore(Activity activity, SupervisedTaskStatus status, Exception? exception, bool gaveUp)
    {
        activity.SetTag(TaskSupervisorDiagnostics.OutcomeTag, SupervisorMetrics.Outcome(status));
        switch (status)
        {
            case SupervisedTaskStatus.RanToCompletion:
                activity.SetStatus(ActivityStatusCode.Ok);
                break;
            case SupervisedTaskStatus.Canceled:
                break;
            default:
                if (exception is not null)
                {
                    activity.AddException(exception);
                }

                activity.SetStatus(ActivityStatusCode.Error, gaveUp ? "gave up after too many restarts" : exception?.Message);
                break;
        }

        activity.Stop();
    }
}
