using Microsoft.Extensions.Options;
using TaskSupervision;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Fails options validation, at host start, with every problem of a <see cref="TaskSupervisorOptions"/> listed.</summary>
internal sealed class TaskSupervisorOptionsValidator : IValidateOptions<TaskSupervisorOptions>
{
    public ValidateOptionsResult Validate(string? name, TaskSupervisorOptions options)
    {
        IReadOnlyList<string> problems = options.GetProblems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
