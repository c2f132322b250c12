namespace TaskSupervision.Tests;

public sealed class BadInputTests
{
    [Fact]
    public async Task NullDelegate_ThrowsArgumentNullException()
    {
        await using var harness = new Harness();
        ITaskSupervisor s = harness.Supervisor;

        s.Invoking(x => x.Run((Func<CancellationToken, Task>)null!)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        s.Invoking(x => x.Run((Func<CancellationToken, Task<int>>)null!)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        s.Invoking(x => x.Run("k", (Func<CancellationToken, Task>)null!)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        s.Invoking(x => x.TryRun("k", (Func<CancellationToken, Task>)null!, out _, out _)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        s.Invoking(x => x.TryRun((Func<CancellationToken, Task<int>>)null!, out _, out _)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        s.Invoking(x => x.TryRun("k", (Func<IServiceProvider, CancellationToken, Task>)null!, out _, out _)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        s.Invoking(x => x.TryRun(0, (Func<int, TaskContext, Task>)null!, out _, out _)).Should().Throw<ArgumentNullException>().WithParameterName("work");
        await s.Awaiting(x => x.RunAsync((Func<CancellationToken, Task<int>>)null!).AsTask()).Should().ThrowAsync<ArgumentNullException>().WithParameterName("work");
        await s.Awaiting(x => x.RunAsync("k", 0, (Func<int, TaskContext, Task>)null!).AsTask()).Should().ThrowAsync<ArgumentNullException>().WithParameterName("work");
        s.Count.Should().Be(0);
    }

    [Fact]
    public async Task NullKey_ThrowsArgumentNullException()
    {
        await using var harness = new Harness();
        ITaskSupervisor s = harness.Supervisor;

        s.Invoking(x => x.Run(null!, _ => Task.CompletedTask)).Should().Throw<ArgumentNullException>().WithParameterName("key");
        s.Invoking(x => x.TryGetTask(null!, out _)).Should().Throw<ArgumentNullException>().WithParameterName("key");
#pragma warning disable TS0003 // deliberately discarded: the call throws before it returns a task
        FluentActions.Invoking(() => { _ = s.CancelAsync(null!, TimeSpan.Zero); }).Should().Throw<ArgumentNullException>().WithParameterName("key");
#pragma warning restore TS0003
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task EmptyOrWhiteSpaceKey_ThrowsArgumentException(string key)
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(x => x.Run(key, _ => Task.CompletedTask)).Should().Throw<ArgumentException>().WithParameterName("key");
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task NegativeTimeouts_ThrowArgumentOutOfRangeException()
    {
        await using var harness = new Harness();
        SupervisedTask task = harness.Supervisor.Run(_ => Task.CompletedTask);
        TimeSpan negative = TimeSpan.FromSeconds(-1);

#pragma warning disable TS0003 // deliberately discarded: the calls throw before they return a task
        FluentActions.Invoking(() => { _ = harness.Supervisor.CancelAsync("k", negative); }).Should().Throw<ArgumentOutOfRangeException>();
        await task.Awaiting(t => t.CancelAsync(negative)).Should().ThrowAsync<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => { _ = harness.Supervisor.DrainAsync(negative); }).Should().Throw<ArgumentOutOfRangeException>();
#pragma warning restore TS0003
        FluentActions.Invoking(() => new TaskSupervisor(new TaskSupervisorOptions { ShutdownTimeout = negative, DrainGracePeriod = negative }))
            .Should().Throw<ArgumentException>().Which.Message.Should().ContainAll("ShutdownTimeout", "DrainGracePeriod");
    }

    [Fact]
    public void InfiniteTimeouts_AreAccepted()
    {
        var options = new TaskSupervisorOptions { ShutdownTimeout = Timeout.InfiniteTimeSpan, DrainGracePeriod = Timeout.InfiniteTimeSpan };

        options.ShutdownTimeout.Should().Be(Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public async Task ScopedRun_WithoutAScopeFactory_ThrowsInvalidOperationException()
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(s => s.Run((sp, ct) => Task.CompletedTask)).Should().Throw<InvalidOperationException>().WithMessage("*IServiceScopeFactory*");
    }
}
