using System.Collections.Concurrent;
using System.Diagnostics;

namespace TaskSupervision.Tests.Diagnostics;

public sealed class ActivityTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;
    private readonly ActivitySource _requests = new("TaskSupervision.Tests.Requests");

    public ActivityTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is TaskSupervisorDiagnostics.ActivitySourceName or "TaskSupervision.Tests.Requests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _requests.Dispose();
    }

    [Fact]
    public async Task Task_RunsUnderItsOwnRootActivity_LinkedToTheRequestThatStartedIt()
    {
        await using var harness = new Harness();
        string key = "trace:" + Guid.NewGuid();
        Activity? seenByWork = null;
        ActivityContext requestContext;

        using (Activity request = _requests.StartActivity("POST /register")!)
        {
            requestContext = request.Context;
            await harness.Supervisor.Run(key, _ => { seenByWork = Activity.Current; return Task.CompletedTask; }, new TaskOptions { Name = "send-email" }).Task.Within();
        }

        Activity activity = _stopped.Should().ContainSingle(a => (string?)a.GetTagItem(TaskSupervisorDiagnostics.TaskKeyTag) == key).Which;
        activity.OperationName.Should().Be(TaskSupervisorDiagnostics.ActivityName);
        activity.DisplayName.Should().Be("send-email");
        activity.ParentSpanId.Should().Be(default(ActivitySpanId), "the task is a root, not a child that outlives the request");
        activity.TraceId.Should().NotBe(requestContext.TraceId);
        activity.Links.Should().ContainSingle().Which.Context.SpanId.Should().Be(requestContext.SpanId);
        activity.Status.Should().Be(ActivityStatusCode.Ok);
        seenByWork.Should().BeSameAs(activity, "the work runs under the task's activity");
    }

    [Fact]
    public async Task Fault_SetsErrorStatus_AndRecordsTheExceptionEvent()
    {
        await using var harness = new Harness();
        string key = "trace:" + Guid.NewGuid();

        await harness.Supervisor.Run(key, _ => throw new InvalidOperationException("smtp down")).Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();

        Activity activity = _stopped.Should().ContainSingle(a => (string?)a.GetTagItem(TaskSupervisorDiagnostics.TaskKeyTag) == key).Which;
        activity.Status.Should().Be(ActivityStatusCode.Error);
        ActivityEvent exception = activity.Events.Should().ContainSingle(e => e.Name == "exception").Which;
        exception.Tags.Should().Contain(t => t.Key == "exception.type" && (string)t.Value! == typeof(InvalidOperationException).FullName);
        exception.Tags.Should().Contain(t => t.Key == "exception.message" && (string)t.Value! == "smtp down");
    }

    [Fact]
    public async Task Restarts_AreEventsOnTheSameActivity()
    {
        await using var harness = new Harness();
        string key = "trace:" + Guid.NewGuid();
        int attempts = 0;
        SupervisedTask task = harness.Supervisor.Run(key, _ => Interlocked.Increment(ref attempts) < 3 ? throw new InvalidOperationException("flaky") : Task.CompletedTask,
            new TaskOptions { Restart = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(1), Jitter = 0 } });

        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(500), () => task.Status == SupervisedTaskStatus.Pending && harness.Time.ArmedTimers > 0);

        Activity activity = _stopped.Should().ContainSingle(a => (string?)a.GetTagItem(TaskSupervisorDiagnostics.TaskKeyTag) == key).Which;
        activity.Events.Count(e => e.Name == "task_supervisor.restart").Should().Be(2);
        activity.Status.Should().Be(ActivityStatusCode.Ok);
    }
}
