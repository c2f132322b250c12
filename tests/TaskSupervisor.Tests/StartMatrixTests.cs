using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace TaskSupervision.Tests;

/// <summary>
/// The start methods follow one rule (ITaskSupervisor's remarks): three verbs x unkeyed/keyed x four works, every
/// combination present. The first test checks the rule itself; the others, each combination added to complete it.
/// </summary>
public sealed class StartMatrixTests
{
    private enum Work
    {
        Token,
        TokenWithResult,
        Scoped,
        State,
    }

    [Fact]
    public void StartMethods_AreExactlyThreeVerbs_ByUnkeyedAndKeyed_ByFourWorks()
    {
        var found = new List<(string Verb, bool Keyed, Work Work)>();
        foreach (MethodInfo method in typeof(ITaskSupervisor).GetMethods())
        {
            if (method.Name is not ("Run" or "TryRun" or "RunAsync"))
            {
                continue;
            }

            ParameterInfo[] parameters = method.GetParameters();
            bool keyed = parameters[0].Name == "key";
            Type work = parameters.Single(p => p.Name == "work").ParameterType;
            Type[] args = work.GetGenericArguments();
            Work shape = args.Length == 3 && args[0] == typeof(IServiceProvider) ? Work.Scoped
                : args.Length == 3 && args[1] == typeof(TaskContext) ? Work.State
                : args[1].IsGenericType ? Work.TokenWithResult
                : Work.Token;
            found.Add((method.Name, keyed, shape));

            parameters[^1].ParameterType.Should().Be(method.Name == "RunAsync" ? typeof(CancellationToken) : typeof(TaskOptions), $"{method} ends with its options, then RunAsync's token");
            method.ReturnType.Should().Be(method.Name switch
            {
                "TryRun" => typeof(bool),
                "RunAsync" => typeof(ValueTask<>).MakeGenericType(shape == Work.TokenWithResult ? typeof(SupervisedTask<>).MakeGenericType(method.GetGenericArguments()[0]) : typeof(SupervisedTask)),
                _ => shape == Work.TokenWithResult ? typeof(SupervisedTask<>).MakeGenericType(method.GetGenericArguments()[0]) : typeof(SupervisedTask),
            }, method.ToString());
        }

        var expected = from verb in new[] { "Run", "TryRun", "RunAsync" }
                       from keyed in new[] { false, true }
                       from work in Enum.GetValues<Work>()
                       select (verb, keyed, work);
        found.Should().BeEquivalentTo(expected, "every verb comes unkeyed and keyed with every work, once");
    }

    [Fact]
    public async Task UnkeyedTypedTryRun_StartsAndProducesTheResult_OrRefusesWhenTheQueueIsFull()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        harness.Supervisor.TryRun(_ => release.Task, out SupervisedTask<int>? task, out StartRefusal refusal).Should().BeTrue();
        refusal.Should().Be(StartRefusal.None);
        harness.Supervisor.TryRun(_ => Task.FromResult(2), out SupervisedTask<int>? refused, out StartRefusal full).Should().BeFalse();
        (refused, full).Should().Be((null, StartRefusal.QueueFull));

        release.SetResult(7);
        (await task!.Task.Within()).Should().Be(7);
    }

    [Fact]
    public async Task TypedRunAsync_WaitsForRoom_ThenProducesTheResult_KeyedAndUnkeyed()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);

        ValueTask<SupervisedTask<int>> unkeyed = harness.Supervisor.RunAsync(_ => Task.FromResult(1));
        unkeyed.IsCompleted.Should().BeFalse("the only run slot is taken and no place may wait");
        release.SetResult();
        SupervisedTask<int> first = await unkeyed.AsTask().Within();
        (await first.Task.Within()).Should().Be(1);

        SupervisedTask<int> keyed = await harness.Supervisor.RunAsync("answer", _ => Task.FromResult(42)).AsTask().Within();
        keyed.Key.Should().Be("answer");
        (await keyed.Task.Within()).Should().Be(42);
    }

    [Fact]
    public async Task TypedRunAsync_UseExisting_HolderOfAnotherType_ThrowsInvalidOperation()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("k", _ => release.Task);

        await harness.Supervisor.Awaiting(s => s.RunAsync("k", _ => Task.FromResult(1), new TaskOptions { IfKeyRunning = KeyConflictBehavior.UseExisting }).AsTask())
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*does not produce a Int32*");
        release.SetResult();
    }

    [Fact]
    public async Task StateTryRun_PassesStateAndContext_KeyedRefusalHandsBackTheHolder()
    {
        await using var harness = new Harness();
        var seen = new TaskCompletionSource<(string State, string? Key)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        harness.Supervisor.TryRun("job", (seen, release), static async (s, context) =>
        {
            s.seen.SetResult(("state", context.Key));
            await s.release.Task;
        }, out SupervisedTask? holder, out StartRefusal refusal).Should().BeTrue();
        refusal.Should().Be(StartRefusal.None);
        (await seen.Task.Within()).Should().Be(("state", "job"));

        harness.Supervisor.TryRun("job", 0, static (_, _) => Task.CompletedTask, out SupervisedTask? again, out StartRefusal inUse).Should().BeFalse();
        (again, inUse).Should().Be((holder, StartRefusal.KeyInUse));

        harness.Supervisor.TryRun(5, static (n, context) => context.Key is null && n == 5 ? Task.CompletedTask : throw new InvalidOperationException(), out SupervisedTask? unkeyed, out _).Should().BeTrue();
        await unkeyed!.Task.Within();
        unkeyed.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
        release.SetResult();
    }

    [Fact]
    public async Task StateRunAsync_WaitsForRoom_KeyedAndUnkeyed()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);

        ValueTask<SupervisedTask> waiting = harness.Supervisor.RunAsync("k", 3, static (n, context) => n == 3 && context.Key == "k" ? Task.CompletedTask : throw new InvalidOperationException());
        waiting.IsCompleted.Should().BeFalse();
        release.SetResult();
        SupervisedTask keyed = await waiting.AsTask().Within();
        await keyed.Task.Within();
        keyed.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);

        SupervisedTask unkeyed = await harness.Supervisor.RunAsync("s", static (s, context) => s == "s" && context.Attempt == 1 ? Task.CompletedTask : throw new InvalidOperationException()).AsTask().Within();
        await unkeyed.Task.Within();
        unkeyed.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task ScopedTryRun_AndScopedRunAsync_RunInAFreshScope_DisposedAfterTheWork()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddScoped<ScopedThing>()
            .AddTaskSupervisor()
            .BuildServiceProvider();
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();
        var things = new List<ScopedThing>();
        Func<IServiceProvider, CancellationToken, Task> work = (services, _) =>
        {
            lock (things)
            {
                things.Add(services.GetRequiredService<ScopedThing>());
            }

            return Task.CompletedTask;
        };

        supervisor.TryRun(work, out SupervisedTask? a, out _).Should().BeTrue();
        supervisor.TryRun("scoped", work, out SupervisedTask? b, out _).Should().BeTrue();
        SupervisedTask c = await supervisor.RunAsync(work).AsTask().Within();
        await b!.Task.Within(); // frees the key for the keyed RunAsync
        SupervisedTask d = await supervisor.RunAsync("scoped", work).AsTask().Within();
        await Task.WhenAll(a!.Task, c.Task, d.Task).Within();

        things.Should().HaveCount(4).And.OnlyHaveUniqueItems().And.OnlyContain(t => t.Disposed);
    }

    [Fact]
    public async Task ScopedTryRun_WithoutAScopeFactory_ThrowsInvalidOperation_AtTheCall()
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(s => s.TryRun((sp, ct) => Task.CompletedTask, out _, out _)).Should().Throw<InvalidOperationException>().WithMessage("*IServiceScopeFactory*");
        await harness.Supervisor.Awaiting(s => s.RunAsync("k", (IServiceProvider sp, CancellationToken ct) => Task.CompletedTask).AsTask())
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*IServiceScopeFactory*");
        harness.Supervisor.Count.Should().Be(0);
    }

    private sealed class ScopedThing : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
