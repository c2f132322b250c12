using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace TaskSupervision.Hosting.Internal;

/// <summary>
/// Hooks every supervisor's <see cref="TaskSupervisorOptions.OnTaskEnded"/>, whatever its name, and stops the host when
/// a critical task fails and <see cref="TaskSupervisorHostingOptions.CriticalTaskFailure"/> says so.
/// </summary>
/// <remarks>
/// A post-configuration (it applies to every name, and runs after every <c>Configure</c>) rather than a configuration,
/// so that an application's <c>o.OnTaskEnded = ...</c> (an assignment, not <c>+=</c>) cannot drop the hook.
/// </remarks>
internal sealed class CriticalTaskFailureHook : IPostConfigureOptions<TaskSupervisorOptions>
{
    private readonly IOptionsMonitor<TaskSupervisorHostingOptions> _options;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;

    public CriticalTaskFailureHook(IOptionsMonitor<TaskSupervisorHostingOptions> options, IServiceProvider services)
    {
        _options = options;

        // Resolved now rather than when a task fails: a task may end after the container is disposed. Both are optional,
        // as in the core, so that a container without a host or logging can still create its supervisors.
        _lifetime = services.GetService<IHostApplicationLifetime>();
        _logger = (ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger<CriticalTaskFailureHook>() ?? NullLogger.Instance;
    }

    public void PostConfigure(string? name, TaskSupervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string supervisor = options.Name ?? (string.IsNullOrEmpty(name) ? "default" : name);
        options.OnTaskEnded += arguments => OnTaskEnded(supervisor, arguments);
    }

    private void OnTaskEnded(string supervisor, TaskEndedArguments arguments)
    {
        // Given-up tasks end Faulted with their last failure; Canceled is a requested stop, never a failure.
        if (!arguments.Task.IsCritical || arguments.Status is not (SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut))
        {
            return;
        }

        TaskSupervisorHostingOptions options = _options.CurrentValue;
        if (options.CriticalTaskFailure != CriticalTaskFailureBehavior.StopHost)
        {
            // The supervisor has logged the failure already.
            return;
        }

        Log.CriticalTaskFailed(_logger, arguments.Exception, arguments.Task.Id, arguments.Key, arguments.Name, supervisor, arguments.Status, options.CriticalFailureExitCode);

        // The exit code first, so that it is in place however soon the process exits once stopping begins. Then the stop,
        // inline as BackgroundService does: it only signals ApplicationStopping, and the host's shutdown (which drains
        // every supervisor, this task's included) runs elsewhere.
        Environment.ExitCode = options.CriticalFailureExitCode;
        _lifetime?.StopApplication();
    }
}
