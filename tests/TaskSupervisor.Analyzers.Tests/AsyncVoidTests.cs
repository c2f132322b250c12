using VerifyCS = TaskSupervision.Analyzers.Tests.Verify<
    TaskSupervision.Analyzers.AsyncVoidAnalyzer,
    TaskSupervision.Analyzers.AsyncVoidCodeFixProvider>;

namespace TaskSupervision.Analyzers.Tests;

public class AsyncVoidTests
{
    [Fact]
    public async Task Async_void_method_returns_task_and_async_callers_await_it()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                public async void {|#0:Refresh|}()
                {
                    await Task.Delay(1);
                }

                public async Task CallerAsync()
                {
                    Refresh();
                    this.Refresh();
                }

                public void SyncCaller()
                {
                    Refresh();
                }
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task Refresh()
                {
                    await Task.Delay(1);
                }

                public async Task CallerAsync()
                {
                    await Refresh();
                    await this.Refresh();
                }

                public void SyncCaller()
                {
                    Refresh();
                }
            }
            """;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("Refresh")], fixedSource);
    }

    [Fact]
    public async Task Callers_in_other_documents_are_awaited_too()
    {
        const string declaration = """
            using System.Threading.Tasks;

            class Worker
            {
                public async void {|#0:Refresh|}() => await Task.Delay(1);
            }
            """;
        const string caller = """
            using System.Threading.Tasks;

            class Caller
            {
                public async Task RunAsync(Worker worker)
                {
                    worker.Refresh();
                }
            }
            """;
        await VerifyCS.CodeFixAsync(
            [declaration, caller],
            [VerifyCS.Diagnostic().WithLocation(0).WithArguments("Refresh")],
            [declaration.Replace("async void {|#0:Refresh|}", "async Task Refresh", StringComparison.Ordinal),
             caller.Replace("worker.Refresh();", "await worker.Refresh();", StringComparison.Ordinal)]);
    }

    [Fact]
    public async Task Async_void_local_function_returns_task()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    Local();

                    async void {|#0:Local|}() => await Task.Delay(1);
                }
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task RunAsync()
                {
                    await Local();

                    async Task Local() => await Task.Delay(1);
                }
            }
            """;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("Local")], fixedSource);
    }

    [Fact]
    public async Task No_fix_when_the_method_is_used_as_a_void_delegate()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;

            class Worker
            {
                public async void {|#0:Refresh|}() => await Task.Delay(1);

                public Action Callback => Refresh;
            }
            """;
        await VerifyCS.NoCodeFixAsync(source, VerifyCS.Diagnostic().WithLocation(0).WithArguments("Refresh"));
    }

    [Fact]
    public async Task Async_lambda_passed_as_action_is_reported_without_fix()
    {
        const string source = """
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;

            class Worker
            {
                public void Run(List<int> items, Action<Action> schedule)
                {
                    items.ForEach({|#0:async item =>|} await Task.Delay(item));
                    schedule({|#1:async () =>|} { await Task.Delay(1); });
                    schedule({|#2:async delegate|} { await Task.Delay(1); });
                }
            }
            """;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("async item =>"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("async () =>"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("async delegate"));
    }

    [Fact]
    public async Task Event_handlers_tests_referenced_overrides_and_task_returning_code_are_not_reported()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;

            class Button
            {
                public event EventHandler? Click;
                public event EventHandler<UnhandledExceptionEventArgs>? Failed;
            }

            abstract class Screen : External.Page, External.IStartable, IDisposable
            {
                protected Screen(Button button)
                {
                    button.Click += async (sender, e) => await Task.Delay(1);
                    button.Click += async delegate { await Task.Delay(1); };
                    button.Failed += OnFailed;
                    button.Click += OnClick;
                }

                private async void OnClick(object? sender, EventArgs e) => await Task.Delay(1);

                private async void OnFailed(object? sender, UnhandledExceptionEventArgs e) => await Task.Delay(1);

                public override async void OnAppearing() => await Task.Delay(1);

                public async void Start() => await Task.Delay(1);

                public async void Dispose() => await Task.Delay(1);

                [Xunit.Fact]
                public async void Test_method_of_a_framework_that_awaits_it() => await Task.Delay(1);

                public async Task LoadAsync() => await Task.Delay(1);

                public void NotAsync() { }

                public void Schedule()
                {
                    Task.Run(async () => await LoadAsync());
                    Func<Task> f = async () => await LoadAsync();
                }
            }

            class DerivedScreen(Button button) : Screen(button)
            {
                public override async void OnAppearing() => await Task.Delay(2);
            }

            class ExplicitStart : External.IStartable
            {
                async void External.IStartable.Start() => await Task.Delay(1);
            }
            """;
        await VerifyCS.AnalyzerAsync(source);
    }

    [Fact]
    public async Task Implementations_and_overrides_of_members_declared_in_this_codebase_are_reported_without_fix()
    {
        const string source = """
            using System.Threading.Tasks;

            interface IStartable
            {
                void Start();
                void Stop();
            }

            abstract class Page
            {
                public abstract void OnAppearing();
                public virtual void OnLeaving() { }
            }

            class Screen : Page, IStartable
            {
                public async void {|#0:Start|}() => await Task.Delay(1);

                async void IStartable.{|#1:Stop|}() => await Task.Delay(1);

                public override async void {|#2:OnAppearing|}() => await Task.Delay(1);

                public override async void {|#3:OnLeaving|}() => await Task.Delay(1);
            }
            """;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("Start"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("IStartable.Stop"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("OnAppearing"),
            VerifyCS.Diagnostic().WithLocation(3).WithArguments("OnLeaving"));
    }

    [Fact]
    public async Task Fix_all_returns_task_from_every_method_and_awaits_every_call_once()
    {
        const string source = """
            using System.Threading.Tasks;

            class Worker
            {
                public async void {|#0:Refresh|}() => await Task.Delay(1);

                public async void {|#1:Reload|}()
                {
                    Refresh();
                    await Task.Delay(1);
                }

                private async void {|#2:Reset|}() => await Task.Delay(1);

                public async Task RunAsync()
                {
                    Refresh();
                    Reload();
                    Reset();
                }
            }
            """;
        const string fixedSource = """
            using System.Threading.Tasks;

            class Worker
            {
                public async Task Refresh() => await Task.Delay(1);

                public async Task Reload()
                {
                    await Refresh();
                    await Task.Delay(1);
                }

                private async Task Reset() => await Task.Delay(1);

                public async Task RunAsync()
                {
                    await Refresh();
                    await Reload();
                    await Reset();
                }
            }
            """;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("Refresh"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("Reload"),
                VerifyCS.Diagnostic().WithLocation(2).WithArguments("Reset"),
            ],
            fixedSource);
    }

    [Fact]
    public async Task Assemblies_named_as_the_codebases_own_in_editorconfig_are_not_exempt()
    {
        const string source = """
            using System.Threading.Tasks;

            class Screen : External.Page, External.IStartable
            {
                public override async void {|#0:OnAppearing|}() => await Task.Delay(1);

                public async void {|#1:Start|}() => await Task.Delay(1);
            }
            """;
        await VerifyCS.AnalyzerWithConfigAsync(
            source,
            "dotnet_code_quality.TS0002.own_assemblies = TaskSupervisor.Stub*",
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("OnAppearing"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Start"));
    }
}
