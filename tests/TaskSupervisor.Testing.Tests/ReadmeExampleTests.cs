// The README's xunit example of TaskSupervisor.Testing, compiled and run as it is shown there.
namespace TaskSupervision.Testing.Tests.Readme;

public sealed class SignupService(ITaskSupervisor supervisor)
{
    public void SignUp(string email) =>
        supervisor.Run($"welcome:{email}", _ => email.Contains('@') ? Task.CompletedTask : throw new FormatException(email));
}

public sealed class SignupServiceTests
{
    [Fact]
    public async Task SignUp_SendsTheWelcomeMail_InTheBackground()
    {
        await using var tasks = new TestSupervisor();
        var service = new SignupService(tasks.Supervisor);

        service.SignUp("ada@example.org");
        await tasks.WaitUntilQuiescentAsync();   // fails the test if the background work faulted

        Assert.Equal(SupervisedTaskStatus.RanToCompletion, Assert.Single(tasks.EndedTasks).Status);
    }

    [Fact]
    public async Task SignUp_BadAddress_FaultsInTheBackground()
    {
        await using var tasks = new TestSupervisor();
        new SignupService(tasks.Supervisor).SignUp("nobody");

        await Assert.ThrowsAsync<TaskSupervisorAssertionException>(() => tasks.WaitUntilQuiescentAsync());
        Assert.IsType<FormatException>(Assert.Single(tasks.TakeFailures()).Exception);   // expected: taken, not a failure
    }
}
