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
                    Task.FromResult(3);
                    _ = supervisor.Run(_ => Api.GetUserAsync());
                    _ = Task.Run(() => Api.GetUserAsync());
                    Task.Run(() => Api.SaveAsync()).ContinueWith(t => t.Exception);
                    _ = Task.Run(() => 1).ConfigureAwait(false);
                }

                public async Task CompilerWarnsHereAsync()
                {
                    // CS4014 covers a dropped call inside async code; TS0003 does not repeat it.
            #pragma warning disable CS4014
                    Api.SaveAsync();
                    Func<Task> later = async () => { Api.SaveAsync(); await Task.Yield(); };
            #pragma warning restore CS4014
                    await later();
                }
            }
            """ + Api;
        await VerifyCS.AnalyzerAsync(source);
    }

    [Fact]
    public async Task Task_call_dropped_as_a_statement_outside_async_code_is_reported_without_fix()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;

            class Worker
            {
                public void Login()
                {
                    {|#0:Api.SaveAsync()|};
                    try
                    {
                        {|#1:Api.GetUserAsync()|};
                    }
                    catch (Exception)
                    {
                    }

                    Task.Run(() =>
                    {
                        {|#2:Api.SaveAsync()|};
                    });
                    Action later = () => {|#3:Api.SaveAsync()|};
                    later();
                    Local();

                    void Local() => {|#4:Api.SaveAsync()|}.ConfigureAwait(false);
                }

                public void Chained() => {|#5:Api.SaveAsync().ContinueWith(t => t.Exception)|};

                // A continuation that returns nothing is how the task is observed (OnlyOnFaulted logging).
                public void Observed() => Api.SaveAsync().ContinueWith(t => Console.WriteLine(t.Exception), TaskContinuationOptions.OnlyOnFaulted);
            }
            """ + Api;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("Api.SaveAsync()"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Api.GetUserAsync()"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("Api.SaveAsync()"),
            VerifyCS.Diagnostic().WithLocation(3).WithArguments("Api.SaveAsync()"),
            VerifyCS.Diagnostic().WithLocation(4).WithArguments("Api.SaveAsync()"),
            VerifyCS.Diagnostic().WithLocation(5).WithArguments("Api.SaveAsync().ContinueWith(t => t.Exception)"));
    }

    [Fact]
    public async Task Discards_through_ConfigureAwait_and_plain_task_discards_are_awaited_by_fix_all()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    _ = {|#0:Api.GetUserAsync()|}.ConfigureAwait(false);
                    _ = {|#1:Api.SaveAsync()|};
                    _ = {|#2:Api.SaveAsync()|}.ConfigureAwait(false);
                    _ = {|#3:Api.SaveAsync()|};
                }
            }
            """ + Api;
        const string fixedSource = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    await Api.GetUserAsync().ConfigureAwait(false);
                    await Api.SaveAsync();
                    await Api.SaveAsync().ConfigureAwait(false);
                    await Api.SaveAsync();
                }
            }
            """ + Api;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Api.GetUserAsync()"),
                VerifyCS.Diagnostic(Descriptors.DiscardedTask).WithLocation(1).WithArguments("Api.SaveAsync()"),
                VerifyCS.Diagnostic(Descriptors.DiscardedTask).WithLocation(2).WithArguments("Api.SaveAsync()"),
                VerifyCS.Diagnostic(Descriptors.DiscardedTask).WithLocation(3).WithArguments("Api.SaveAsync()"),
            ],
            fixedSource);
    }

    [Fact]
    public async Task Plain_task_discards_can_be_turned_off_alone_in_editorconfig()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                public void Start()
                {
                    _ = Api.SaveAsync();
                    _ = {|#0:Api.GetUserAsync()|};
                    {|#1:Api.SaveAsync()|};
                }
            }
            """ + Api;
        await VerifyCS.AnalyzerWithConfigAsync(
            source,
            "dotnet_diagnostic.TS0005.severity = none",
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("Api.GetUserAsync()"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Api.SaveAsync()"));
    }
}
