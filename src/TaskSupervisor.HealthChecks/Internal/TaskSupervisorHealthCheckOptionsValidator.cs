using Microsoft.Extensions.Options;
using TaskSupervision.Internal;

namespace TaskSupervision.HealthChecks.Internal;

/// <summary>Reports every problem of a check's <see cref="TaskSupervisorHealthCheckOptions"/> at host start, by configuration path when bound from configuration.</summary>
internal sealed class TaskSupervisorHealthCheckOptionsValidator(IEnumerable<OptionsConfigurationPath> paths) : IValidateOptions<TaskSupervisorHealthCheckOptions>
{
    private readonly OptionsConfigurationPath[] _paths = [.. paths];

    public ValidateOptionsResult Validate(string? name, TaskSupervisorHealthCheckOptions options)
    {
        IReadOnlyList<string> problems = options.GetProblems(OptionsConfigurationPath.Find(_paths, typeof(TaskSupervisorHealthCheckOptions), name));
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
