using VerifyCS = TaskSupervision.Analyzers.Tests.Verify<
    TaskSupervision.Analyzers.UnawaitedTaskAnalyzer,
    TaskSupervision.Analyzers.UnawaitedTaskCodeFixProvider>;

namespace TaskSupervision.Analyzers.Tests;

public class UnawaitedTaskTests
{
    private const string Api = """

        class User { }

        class Api
        {
            public static Task SaveAsync() => Task.CompletedTask;
            public static Task<User> GetUserAsync() => Task.FromResult(new User());
        }
        """;

    [Fact]
    public async Task Unread_task_local_gets_awaited_after_its_declaration()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    var save = {|#0:Api.SaveAsync()|};
                    Task<User> user = {|#1:Api.GetUserAsync()|};
                    await Task.Delay(1);
                }
            }
            """ + Api;
        const string fixedSource = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    var save = Api.SaveAsync();
                    await save;
                    Task<User> user = Api.GetUserAsync();
                    await user;
                    await Task.Delay(1);
                }
            }
            """ + Api;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Api.SaveAsync()"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("Api.GetUserAsync()"),
            ],
            fixedSource);
    }

    [Fact]
    public async Task Discarded_task_of_T_is_awaited()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    // the user is needed later
                    _ = {|#0:Api.GetUserAsync()|};
                    Func<Task> later = async () =>
                    {
                        _ = {|#1:Api.GetUserAsync()|};
                        await Task.Yield();
                    };
                    await later();
                }
            }
            """ + Api;
        const string fixedSource = """
            using System;
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    // the user is needed later
                    await Api.GetUserAsync();
                    Func<Task> later = async () =>
                    {
                        await Api.GetUserAsync();
                        await Task.Yield();
                    };
                    await later();
                }
            }
            """ + Api;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Api.GetUserAsync()"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("Api.GetUserAsync()"),
            ],
            fixedSource);
    }

    [Fact]
    public async Task No_fix_outside_async_functions_or_inside_lock()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                private readonly object _gate = new();

                public void Run()
                {
                    var save = {|#0:Api.SaveAsync()|};
                    _ = {|#1:Api.GetUserAsync()|};
                }

                public async Task RunAsync()
                {
                    lock (_gate)
                    {
                        _ = {|#2:Api.GetUserAsync()|};
                    }

                    await Task.Yield();
                }
            }
            """ + Api;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("Api.SaveAsync()"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Api.GetUserAsync()"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("Api.GetUserAsync()"));
    }

    [Fact]
    public async Task Observed_tasks_are_not_reported()
    {
        const string source = """
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                private readonly List<Task> _pending = new();
                private Task? _last;

                public async Task<User> AwaitedAsync()
                {
                    var user = Api.GetUserAsync();
                    await Api.SaveAsync();
                    return await user;
                }

                public Task<User> Returned()
                {
                    var user = Api.GetUserAsync();
                    return user;
                }

                public Task PassedOn()
                {
                    var a = Api.SaveAsync();
                    var b = Api.SaveAsync();
                    return Task.WhenAll(a, b);
                }

                public void Stored()
                {
                    var a = Api.SaveAsync();
                    _pending.Add(a);
                    var b = Api.SaveAsync();
                    _last = b;
                }

                public User ReadForResult()
                {
                    var user = Api.GetUserAsync();
                    return user.Result;
                }

                public async Task ContinuationAwaitedAsync()
                {
                    var chain = Api.GetUserAsync().ContinueWith(t => t.Result);
                    await chain;
                    await Api.SaveAsync().ContinueWith(_ => { });
                }

                public void CapturedByLambda()
                {
                    var save = Api.SaveAsync();
                    Func<Task> f = () => save;
                    _ = f;
                }

                public void NotWork()
                {
                    var done = Task.CompletedTask;
                    var value = Task.FromResult(1);
                    _ = Task.FromResult(2);
                    _ = Api.SaveAsync();
                    _ = supervisor.Run(_ => Api.GetUserAsync());
                    _ = Task.Run(() => Api.GetUserAsync());
                }
            }
            """ + Api;
        await VerifyCS.AnalyzerAsync(source);
    }
}
