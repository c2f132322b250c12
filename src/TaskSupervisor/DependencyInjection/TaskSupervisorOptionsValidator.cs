using Microsoft.Extensions.Options;
using TaskSupervision;
using TaskSupervision.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Fails options validation, at host start (<c>ValidateOnStart</c>), with every problem of a
/// <see cref="TaskSupervisorOptions"/> listed in one <see cref="OptionsValidationException"/>, each naming its setting by
/// its configuration path when the options were bound from configuration.
/// </summary>
internal sealed class TaskSupervisorOptionsValidator(IEnumerable<OptionsConfigurationPath> paths) : IValidateOptions<TaskSupervisorOptions>
{
    private readonly OptionsConfigurationPath[] _paths = [.. paths];

    public ValidateOptionsResult Validate(string? name, TaskSupervisorOptions options)
    {
        IReadOnlyList<string> problems = options.GetProblems(OptionsConfigurationPath.Find(_paths, typeof(TaskSupervisorOptions), name));
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
