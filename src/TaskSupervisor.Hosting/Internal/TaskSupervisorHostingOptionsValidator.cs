using Microsoft.Extensions.Options;
using TaskSupervision.Internal;

namespace TaskSupervision.Hosting.Internal;

/// <summary>Reports every problem of <see cref="TaskSupervisorHostingOptions"/> at host start, by configuration path when bound from configuration.</summary>
internal sealed class TaskSupervisorHostingOptionsValidator(IEnumerable<OptionsConfigurationPath> paths) : IValidateOptions<TaskSupervisorHostingOptions>
{
    private readonly OptionsConfigurationPath[] _paths = [.. paths];

    public ValidateOptionsResult Validate(string? name, TaskSupervisorHostingOptions options)
    {
        IReadOnlyList<string> problems = options.GetProblems(OptionsConfigurationPath.Find(_paths, typeof(TaskSupervisorHostingOptions), name));
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
