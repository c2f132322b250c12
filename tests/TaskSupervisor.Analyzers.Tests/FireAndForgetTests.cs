using VerifyCS = TaskSupervision.Analyzers.Tests.Verify<
    TaskSupervision.Analyzers.FireAndForgetAnalyzer,
    TaskSupervision.Analyzers.FireAndForgetCodeFixProvider>;

namespace TaskSupervision.Analyzers.Tests;

public class FireAndForgetTests
{
    [Fact]
    public async Task Bare_task_run_is_started_through_the_supervisor_field()
    {
        const string source = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                private readonly ITaskSupervisor _supervisor = supervisor;

                public void Start()
                {
                    {|#0:Task.Run(() => DoWorkAsync())|};
                }

                private Task DoWorkAsync() => Task.CompletedTask;
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                private readonly ITaskSupervisor _supervisor = supervisor;

                public void Start()
                {
                    _supervisor.Run(_ => DoWorkAsync());
                }

                private Task DoWorkAsync() => Task.CompletedTask;
            }
            """;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Run(() => DoWorkAsync())")], fixedSource);
    }

    [Fact]
    public async Task Discarded_async_task_run_uses_the_parameter_and_keeps_async()
    {
        const string source = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker
            {
                public void Start(ITaskSupervisor supervisor)
                {
                    _ = {|#0:Task.Run(async () => await Task.Delay(10))|};
                }
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker
            {
                public void Start(ITaskSupervisor supervisor)
                {
                    _ = supervisor.Run(async _ => await Task.Delay(10));
                }
            }
            """;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Run(async () => await Task.Delay(10))")], fixedSource);
    }

    [Fact]
    public async Task Task_of_T_work_keeps_its_result_type()
    {
        const string source = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker
            {
                public ITaskSupervisor Supervisor { get; } = null!;

                public void Start()
                {
                    {|#0:Task.Run(() => CountAsync())|};
                }

                private Task<int> CountAsync() => Task.FromResult(1);
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker
            {
                public ITaskSupervisor Supervisor { get; } = null!;

                public void Start()
                {
                    Supervisor.Run(_ => CountAsync());
                }

                private Task<int> CountAsync() => Task.FromResult(1);
            }
            """;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Run(() => CountAsync())")], fixedSource);
    }

    [Fact]
    public async Task Synchronous_start_new_body_is_wrapped_to_return_a_completed_task()
    {
        const string source = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                public void Start()
                {
                    {|#0:Task.Factory.StartNew(() => Work())|};
                    {|#1:Task.Run(() =>
                    {
                        Work();
                        Work();
                    })|};
                }

                private static void Work() { }
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                public void Start()
                {
                    supervisor.Run(_ => { Work(); return Task.CompletedTask; });
                    supervisor.Run(_ =>
                    {
                        Work();
                        Work();
                        return Task.CompletedTask;
                    });
                }

                private static void Work() { }
            }
            """;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Factory.StartNew(() => Work())"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("Task.Run(...)"),
            ],
            fixedSource);
    }

    [Fact]
    public async Task No_fix_without_a_supervisor_in_reach()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker
            {
                private readonly ITaskSupervisor _supervisor = null!;

                public static void FromStatic()
                {
                    {|#0:Task.Run(() => { })|};
                }

                public void WithToken(CancellationToken token)
                {
                    {|#1:Task.Run(() => { }, token)|};
                }

                public void WithReturnInBody(bool skip)
                {
                    _ = {|#2:Task.Run(() => { if (skip) return; _ = _supervisor; })|};
                }
            }
            """;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Run(() => { })"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Task.Run(() => { }, token)"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("Task.Run(() => { if (skip) return; _ = _supervisor; })"));
    }

    [Fact]
    public async Task Observed_tasks_and_supervised_work_are_not_reported()
    {
        const string source = """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                private readonly List<Task> _tasks = new();
                private Task? _background;

                public async Task<int> RunAllAsync()
                {
                    await Task.Run(() => { });
                    await Task.Factory.StartNew(() => { });
                    await Task.WhenAll(Task.Run(() => { }), Task.Run(() => { }));
                    _tasks.Add(Task.Run(() => { }));
                    _background = Task.Run(() => { });
                    await Task.Run(() => 1).ContinueWith(t => t.Result + 1);
                    supervisor.Run(_ => Task.CompletedTask);
                    _ = supervisor.Run(async _ => await Task.Delay(1));
                    return await Task.Run(() => 42);
                }

                public Task Returned() => Task.Run(() => { });
            }
            """;
        await VerifyCS.AnalyzerAsync(source);
    }

    [Fact]
    public async Task Unwrap_and_ConfigureAwait_chains_are_followed_and_replaced_whole()
    {
        const string source = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                public void Start()
                {
                    {|#0:Task.Factory.StartNew(async () => await Task.Delay(1))|}.Unwrap();
                    _ = {|#1:Task.Run(() => Work())|}.ConfigureAwait(false);
                    _ = {|#2:Task.Factory.StartNew(async () => await Task.Delay(1))|}.Unwrap().ConfigureAwait(false);
                }

                private static void Work() { }
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                public void Start()
                {
                    supervisor.Run(async _ => await Task.Delay(1));
                    _ = supervisor.Run(_ => { Work(); return Task.CompletedTask; });
                    _ = supervisor.Run(async _ => await Task.Delay(1));
                }

                private static void Work() { }
            }
            """;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Factory.StartNew(async () => await Task.Delay(1))"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("Task.Run(() => Work())"),
                VerifyCS.Diagnostic().WithLocation(2).WithArguments("Task.Factory.StartNew(async () => await Task.Delay(1))"),
            ],
            fixedSource);
    }
    [Fact]
    public async Task ContinueWith_chain_and_thread_pool_queue_are_reported_without_fix()
    {
        const string source = """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Worker(ITaskSupervisor supervisor)
            {
                public void Start()
                {
                    {|#0:Task.Run(() => Work())|}.ContinueWith(t => Console.WriteLine(t.Exception), TaskContinuationOptions.OnlyOnFaulted);
                    _ = {|#1:Task.Run(() => 1)|}.ContinueWith(t => t.Result).ConfigureAwait(false);
                    TaskExtensions.Unwrap({|#2:Task.Factory.StartNew(async () => await Task.Delay(1))|});
                    {|#3:ThreadPool.QueueUserWorkItem(_ => Work())|};
                    if ({|#4:ThreadPool.UnsafeQueueUserWorkItem(_ => Work(), null)|})
                    {
                        Work();
                    }
                }

                private static void Work() { }
            }
            """;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Run(() => Work())"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Task.Run(() => 1)"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("Task.Factory.StartNew(async () => await Task.Delay(1))"),
            VerifyCS.Diagnostic().WithLocation(3).WithArguments("ThreadPool.QueueUserWorkItem(_ => Work())"),
            VerifyCS.Diagnostic().WithLocation(4).WithArguments("ThreadPool.UnsafeQueueUserWorkItem(_ => Work(), null)"));
    }

    [Fact]
    public async Task Fix_passes_the_supervisor_token_to_calls_that_left_theirs_at_default()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Mailer
            {
                public Task SendAsync(string to, CancellationToken cancellationToken = default) => Task.CompletedTask;
                public Task FlushAsync(CancellationToken token = default, bool force = false) => Task.CompletedTask;
            }

            class Worker(ITaskSupervisor supervisor, Mailer mailer)
            {
                public void Send(string to)
                {
                    {|#0:Task.Run(() => mailer.SendAsync(to))|};
                    {|#1:Task.Run(async () =>
                    {
                        await mailer.SendAsync(to);
                        await mailer.FlushAsync(force: true);
                    })|};
                }

                public void SendWithOuterToken(string to, CancellationToken ct)
                {
                    {|#2:Task.Run(async () =>
                    {
                        await mailer.SendAsync(to, ct);
                        await mailer.SendAsync(to);
                    })|};
                }
            }
            """;
        const string fixedSource = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Mailer
            {
                public Task SendAsync(string to, CancellationToken cancellationToken = default) => Task.CompletedTask;
                public Task FlushAsync(CancellationToken token = default, bool force = false) => Task.CompletedTask;
            }

            class Worker(ITaskSupervisor supervisor, Mailer mailer)
            {
                public void Send(string to)
                {
                    supervisor.Run(ct => mailer.SendAsync(to, ct));
                    supervisor.Run(async ct =>
                    {
                        await mailer.SendAsync(to, ct);
                        await mailer.FlushAsync(force: true, token: ct);
                    });
                }

                public void SendWithOuterToken(string to, CancellationToken ct)
                {
                    supervisor.Run(async cancellationToken =>
                    {
                        await mailer.SendAsync(to, ct);
                        await mailer.SendAsync(to, cancellationToken);
                    });
                }
            }
            """;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Task.Run(() => mailer.SendAsync(to))"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("Task.Run(...)"),
                VerifyCS.Diagnostic().WithLocation(2).WithArguments("Task.Run(...)"),
            ],
            fixedSource);
    }
}
