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
}
