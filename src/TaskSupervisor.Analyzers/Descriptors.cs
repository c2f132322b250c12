using Microsoft.CodeAnalysis;

namespace TaskSupervision.Analyzers
{
    /// <summary>The diagnostic descriptors of the TaskSupervisor rules.</summary>
    public static class Descriptors
    {
        private const string Category = "Reliability";
        private const string HelpBase = "https://github.com/tasksupervisor/TaskSupervisor/blob/main/docs/rules/";

        /// <summary>TS0001: fire-and-forget thread-pool work.</summary>
        public static readonly DiagnosticDescriptor FireAndForget = new DiagnosticDescriptor(
            id: "TS0001",
            title: "Fire-and-forget thread-pool work",
            messageFormat: "'{0}' starts work whose task is thrown away; start it through ITaskSupervisor so its failure is observed and shutdown waits for it",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Task.Run or Task.Factory.StartNew whose task is discarded or used as a bare statement: exceptions go unobserved and the work is cut off at shutdown.",
            helpLinkUri: HelpBase + "TS0001.md");

        /// <summary>TS0002: async void method or lambda.</summary>
        public static readonly DiagnosticDescriptor AsyncVoid = new DiagnosticDescriptor(
            id: "TS0002",
            title: "Async void outside an event handler",
            messageFormat: "'{0}' is async void; its exceptions crash the process and no caller can await it",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "An async void method that is not an event handler, or an async lambda passed where a void-returning delegate is expected.",
            helpLinkUri: HelpBase + "TS0002.md");

        /// <summary>TS0003: critical work left unawaited.</summary>
        public static readonly DiagnosticDescriptor Unawaited = new DiagnosticDescriptor(
            id: "TS0003",
            title: "Task left unawaited",
            messageFormat: "The task from '{0}' is never awaited, returned or observed; its result and any exception are lost",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "A task stored in a local that is never awaited, returned, passed on or stored elsewhere, or a discarded Task<T> whose result was asked for and thrown away.",
            helpLinkUri: HelpBase + "TS0003.md");

        /// <summary>TS0004: request state captured by background work.</summary>
        public static readonly DiagnosticDescriptor CapturedRequestState = new DiagnosticDescriptor(
            id: "TS0004",
            title: "Request state captured by background work",
            messageFormat: "Background work captures '{0}', which belongs to the request and is disposed or reused when the request ends",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "A lambda run by Task.Run or ITaskSupervisor.Run captures HttpContext, HttpRequest, HttpResponse, a DbContext or a [FromServices] parameter.",
            helpLinkUri: HelpBase + "TS0004.md");
    }
}
