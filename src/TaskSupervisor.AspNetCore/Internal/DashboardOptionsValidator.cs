using Microsoft.Extensions.Options;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>Checks <see cref="TaskSupervisorDashboardOptions"/> when the application starts.</summary>
internal sealed class DashboardOptionsValidator : IValidateOptions<TaskSupervisorDashboardOptions>
{
    // One rule for timeouts, as in the core: zero to uint.MaxValue - 1 ms, so no accepted value fails later in CancelAfter.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public ValidateOptionsResult Validate(string? name, TaskSupervisorDashboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        if (options.EnableCancel && string.IsNullOrWhiteSpace(options.CancelPolicy))
        {
            failures.Add("EnableCancel requires CancelPolicy: the name of the authorization policy a user must pass to cancel tasks.");
        }

        if (options.CancelTimeout < TimeSpan.Zero || options.CancelTimeout > MaxTimeout)
        {
            failures.Add($"CancelTimeout must be from zero to {MaxTimeout.TotalMilliseconds} ms; it was {options.CancelTimeout}.");
        }

        if (options.RecentFailureCapacity < 1 || options.RecentFailureCapacity > DashboardConstants.MaxRecentFailureCapacity)
        {
            failures.Add($"RecentFailureCapacity must be from 1 to {DashboardConstants.MaxRecentFailureCapacity}; it was {options.RecentFailureCapacity}.");
        }

        if (options.OutcomeWindow < TimeSpan.FromSeconds(1) || options.OutcomeWindow > MaxTimeout)
        {
            failures.Add($"OutcomeWindow must be at least 1 second and at most {MaxTimeout.TotalMilliseconds} ms; it was {options.OutcomeWindow}.");
        }

        if (options.UpdateInterval < TimeSpan.FromMilliseconds(50) || options.UpdateInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"UpdateInterval must be from 50 ms to 1 hour; it was {options.UpdateInterval}.");
        }

        if (options.MaxPageSize < 1 || options.MaxPageSize > TaskQuery.MaxTake)
        {
            failures.Add($"MaxPageSize must be from 1 to {TaskQuery.MaxTake}; it was {options.MaxPageSize}.");
        }

        if (options.DefaultPageSize < 1 || options.DefaultPageSize > options.MaxPageSize)
        {
            failures.Add($"DefaultPageSize must be from 1 to MaxPageSize ({options.MaxPageSize}); it was {options.DefaultPageSize}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
