using Microsoft.CodeAnalysis;

namespace TaskSupervision.Analyzers
{
    /// <summary>The diagnostic descriptors of the TaskSupervisor rules.</summary>
    /// <remarks>
    /// No rule has a help link: the project has no public home yet, and a link must name a page that exists. The rule
    /// pages are docs/rules/TSnnnn.md in the repository.
    /// </remarks>
    public static class Descriptors
    {
        private const string Category = "Reliability";

        /// <summary>TS0001: fire-and-forget thread-pool work.</summary>
        public static readonly DiagnosticDescriptor FireAndForget = new DiagnosticDescriptor(
            id: "TS0001",
            title: "Fire-and-forget thread-pool work",
            messageFormat: "'{0}' starts work nobody observes; start it through ITaskSupervisor so its failure is observed and shutdown waits for it",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Task.Run or Task.Factory.StartNew whose task (followed through Unwrap, ConfigureAwait and ContinueWith) is discarded or used as a bare statement, and ThreadPool.QueueUserWorkItem / UnsafeQueueUserWorkItem: exceptions go unobserved and the work is cut off at shutdown.");

        /// <summary>TS0002: async void method or lambda.</summary>
        public static readonly DiagnosticDescriptor AsyncVoid = new DiagnosticDescriptor(
            id: "TS0002",
            title: "Async void outside an event handler",
            messageFormat: "'{0}' is async void; its exceptions crash the process and no caller can await it",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "An async void method that is not an event handler, or an async lambda passed where a void-returning delegate is expected.");

        /// <summary>TS0003: critical work left unawaited.</summary>
        public static readonly DiagnosticDescriptor Unawaited = new DiagnosticDescriptor(
            id: "TS0003",
            title: "Task left unawaited",
            messageFormat: "The task from '{0}' is never awaited, returned or observed; its result and any exception are lost",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "A task stored in a local that is never awaited, returned, passed on or stored elsewhere; a discarded Task<T> whose result was asked for and thrown away; a Task-returning call used as a statement in a method, lambda or local function that is not async (where CS4014 does not apply).");

        /// <summary>TS0005: a plain Task thrown away with a discard (<c>_ = SaveAsync();</c>).</summary>
        /// <remarks>A separate ID from TS0003 because a discard often states a deliberate drop: a codebase that has
        /// many can turn this one down in .editorconfig and keep TS0003.</remarks>
        public static readonly DiagnosticDescriptor DiscardedTask = new DiagnosticDescriptor(
            id: "TS0005",
            title: "Task discarded",
            messageFormat: "The task from '{0}' is discarded; if it fails nobody hears of it, and nothing waits for it at shutdown",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "A Task (not Task<T>) assigned to the discard, directly or through ConfigureAwait: the work runs unsupervised and its failure is lost. Start deliberate background work through ITaskSupervisor.");

        /// <summary>TS0004: request state captured by background work.</summary>
        public static readonly DiagnosticDescriptor CapturedRequestState = new DiagnosticDescriptor(
            id: "TS0004",
            title: "Request state captured by background work",
            messageFormat: "Background work captures '{0}', which belongs to the request and is disposed or reused when the request ends",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Work started by Task.Run, Task.Factory.StartNew, ITaskSupervisor.Run, ThreadPool.QueueUserWorkItem or new Thread (a lambda or a method group) that captures HttpContext, HttpRequest, HttpResponse, a DbContext or a scoped [FromServices] parameter, or reads IHttpContextAccessor.HttpContext.");
    }
}
