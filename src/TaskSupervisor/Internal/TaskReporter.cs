using Microsoft.Extensions.Logging;

namespace TaskSupervision.Internal;

/// <summary>
/// End-of-task reporting: the log line, the metrics and the callbacks of every way a task ends or restarts. Nothing here
/// throws: the logger is contained, the metrics swallow a listener's exception, and each callback's exception is logged.
/// </summary>
internal sealed class TaskReporter(ILogger logger, SupervisorMetrics metrics, string supervisor, Action<TaskEndedArguments>? onTaskEnded)
{
    /// <summary>
    /// Whether the end of a task with <paramref name="status"/> goes anywhere: a callback, a metric someone listens to, or
    /// a log line the logger takes. A failure always is. When an end goes nowhere the task skips <see cref="Ended"/> and
    /// the clock read for its elapsed time, which is what a plain task with no logger, listener or callback costs.
    /// </summary>
    public bool IsReported(SupervisedTaskStatus status, Action<TaskEndedArguments>? taskCallback) =>
        taskCallback is not null
        || onTaskEnded is not null
        || metrics.IsEndRecorded
        || status switch
        {
            SupervisedTaskStatus.RanToCompletion => logger.IsEnabled(LogLevel.Trace), // TaskCompleted's level
            SupervisedTaskStatus.Canceled => logger.IsEnabled(LogLevel.Debug), // TaskCanceled's level
            _ => true,
        };

    /// <summary>Logs how a task ended and runs its callbacks. Called once per started task, before it is forgotten.</summary>
    public void Ended(SupervisedTask task, SupervisedTaskStatus status, Exception? exception, TimeSpan elapsed, Action<TaskEndedArguments>? taskCallback, bool gaveUp)
    {
        try
        {
            string key = Label(task.Key);
            string name = Label(task.Name);
            switch (status)
            {
                case SupervisedTaskStatus.Faulted when gaveUp:
                    Log.TaskGaveUp(logger, exception!, task.Id, key, name, supervisor, task.RestartCount);
                    break;
                case SupervisedTaskStatus.Faulted:
                    Log.TaskFaulted(logger, exception!, task.Id, key, name, supervisor, elapsed.TotalMilliseconds);
                    break;
                case SupervisedTaskStatus.TimedOut:
                    Log.TaskTimedOut(logger, exception!, task.Id, key, name, supervisor, elapsed.TotalMilliseconds);
                    break;
                case SupervisedTaskStatus.Canceled:
                    Log.TaskCanceled(logger, task.Id, key, name, supervisor, elapsed.TotalMilliseconds);
                    break;
                default:
                    Log.TaskCompleted(logger, task.Id, key, name, supervisor, elapsed.TotalMilliseconds);
                    break;
            }

            metrics.RecordEnded(supervisor, task.Name, status, elapsed, gaveUp);
        }
        catch (Exception)
        {
            // Contained already; this is the last net, so that the callbacks below still run.
        }

        if (taskCallback is null && onTaskEnded is null)
        {
            return;
        }

        var arguments = new TaskEndedArguments(task, status, exception, elapsed, task.RestartCount, gaveUp);
        InvokeCallbacks(taskCallback, arguments);
        InvokeCallbacks(onTaskEnded, arguments);
    }

    public void Restarting(SupervisedTask task, Exception? exception, int restartCount, TimeSpan delay)
    {
        Log.TaskRestarting(logger, exception, task.Id, Label(task.Key), Label(task.Name), supervisor, delay.TotalMilliseconds, restartCount);
        metrics.RecordRestart(supervisor, task.Name);
    }

    public void Overrun(SupervisedTask task, TimeSpan timeout, TimeSpan overBy)
    {
        Log.TaskOverran(logger, task.Id, Label(task.Key), Label(task.Name), supervisor, timeout.TotalMilliseconds, overBy.TotalMilliseconds);
        metrics.RecordOverrun(supervisor, task.Name);
    }

    public void CancellationCallbackFailed(SupervisedTask task, AggregateException exception) =>
        Log.CancellationCallbackFailed(logger, exception.InnerExceptions.Count == 1 ? exception.InnerException! : exception, task.Id, Label(task.Key), Label(task.Name), supervisor);

    public void Straggler(SupervisedTaskInfo straggler) =>
        Log.DrainStraggler(logger, straggler.Id, Label(straggler.Key), Label(straggler.Name), supervisor, straggler.Age.TotalMilliseconds);

    /// <summary>A task's key or name in a log line: "-" for none, as in <see cref="SupervisedTask.ToString"/>, never "(null)".</summary>
    public static string Label(string? value) => value ?? "-";

    private void InvokeCallbacks(Action<TaskEndedArguments>? callbacks, in TaskEndedArguments arguments)
    {
        if (callbacks is null)
        {
            return;
        }

        foreach (Action<TaskEndedArguments> callback in Delegate.EnumerateInvocationList(callbacks))
        {
            try
            {
                callback(arguments);
            }
            catch (Exception ex)
            {
                Log.CallbackFailed(logger, ex, arguments.Task.Id, Label(arguments.Key), Label(arguments.Name), supervisor);
                metrics.RecordCallbackFailure(supervisor, arguments.Name);
            }
        }
    }
}
