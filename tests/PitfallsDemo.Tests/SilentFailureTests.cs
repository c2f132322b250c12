using Microsoft.Extensions.Logging;
using PitfallsDemo.Pitfalls;
using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo.Tests;

public sealed class SilentFailureTests : IAsyncLifetime
{
    private readonly DemoFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task BrokenRegister_InvalidAddress_Answers200_AndTheExceptionIsNeitherLoggedNorRecorded()
    {
        Registration registration = await _app.PostAsync<Registration>("/broken/register?email=bob@");
        await _app.Time.WaitForTimersAsync(DemoTimings.SendDelay);
        _app.Time.Advance(DemoTimings.SendDelay);
        await _app.Get<Mailer>().Rejections.WaitUntilAsync(n => n == 1).WaitAsync(Limits.Wait);

        registration.Registered.Should().BeTrue();
        LogJournal journal = _app.Get<LogJournal>();
        journal.FaultsLogged.Value.Should().Be(0);
        journal.Records.Should().NotContain(r => r.Level >= LogLevel.Error);
        (await _app.GetAsync<List<FailedJob>>("/failed-jobs")).Should().BeEmpty();
        DemoStatus status = await _app.GetAsync<DemoStatus>("/status");
        status.Broken.LostExceptions.Should().Be(1);
        status.Fixed.Should().Be(new FixedSide(FaultsLogged: 0, FailedJobs: 0));
    }

    [Fact]
    public async Task FixedRegister_InvalidAddress_Answers200AtOnce_LogsTheFaultWithItsKey_AndRecordsAFailedJob()
    {
        Registration registration = await _app.PostAsync<Registration>("/fixed/register?email=bob@");

        // The client has its answer while the email is still waiting on the clock.
        registration.TaskKey.Should().Be("email:bob@");
        _app.Get<Mailer>().Rejections.Value.Should().Be(0);
        await _app.Time.WaitForTimersAsync(DemoTimings.SendDelay);
        _app.Time.Advance(DemoTimings.SendDelay);
        await _app.Get<ITaskSupervisor>().WhenIdleAsync().WaitAsync(Limits.Wait);

        LogRecord fault = _app.Get<LogJournal>().Records.Should().ContainSingle(r => r.EventName == "TaskFaulted").Subject;
        fault.Level.Should().Be(LogLevel.Error);
        fault.TaskKey.Should().Be("email:bob@");
        fault.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("bob@");
        List<FailedJob> jobs = await _app.GetAsync<List<FailedJob>>("/failed-jobs");
        jobs.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Key = "email:bob@", Name = "welcome-email" });
    }

    [Fact]
    public async Task FixedRegister_UnderTheTestingKit_TheBackgroundFaultFailsTheTestUnlessTaken_AndTheAppsOwnHooksStillRecordIt()
    {
        // The testing kit in place of the app's supervisor: a user's test of their own service looks like this.
        await using var app = new DemoFactory(testSupervisor: true);
        await app.PostAsync<Registration>("/fixed/register?email=bob@");
        await app.Time.WaitForTimersAsync(DemoTimings.SendDelay);
        app.Time.Advance(DemoTimings.SendDelay);
        TaskSupervision.Testing.TestSupervisor tasks = app.Get<TaskSupervision.Testing.TestSupervisor>();

        (await tasks.Awaiting(t => t.WaitUntilQuiescentAsync()).Should().ThrowAsync<TaskSupervision.Testing.TaskSupervisorAssertionException>())
            .Which.Message.Should().Contain("email:bob@");
        tasks.TakeFailures().Should().ContainSingle().Which.Exception.Should().BeOfType<InvalidOperationException>();
        (await app.GetAsync<List<FailedJob>>("/failed-jobs")).Should().ContainSingle("the app's own OnTaskEnded hook still runs under the kit")
            .Which.Key.Should().Be("email:bob@");
    }

    [Fact]
    public async Task BrokenRegisterAsyncVoid_InvalidAddress_Answers200_ThenTheExceptionTerminatesTheProcess()
    {
        // A separate copy of the app (a child process, bounded in time): the crash is the behaviour under test.
        using StringWriter output = new();

        (bool died, string evidence) = await AsyncVoidCrash.RunAsync(output, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        output.ToString().Should().Contain("-> 200 OK");
        died.Should().BeTrue(evidence);
        evidence.Should().NotStartWith("exit code 0").And.Contain("Unhandled exception. System.InvalidOperationException: 550 mailbox 'bob@' rejected");
    }
}
