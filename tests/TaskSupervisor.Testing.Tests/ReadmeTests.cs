namespace TaskSupervision.Testing.Tests;

/// <summary>The README's code is real code: the Program.cs it opens with is built by CI (samples/MinimalProgram).</summary>
public sealed class ReadmeTests
{
    [Fact]
    public void FiveMinuteGuide_OpensWithTheProgramCsThatCiBuilds()
    {
        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int guide = readme.IndexOf("## Five-minute guide", StringComparison.Ordinal);
        int start = readme.IndexOf("```csharp\n", guide, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("```\n", start, StringComparison.Ordinal);

        string shown = readme[start..end];

        shown.Should().Be(File.ReadAllText(Path.Combine(root, "samples", "MinimalProgram", "Program.cs")));
        shown.Should().Contain("WebApplication.CreateBuilder").And.Contain("AddTaskSupervisor()").And.Contain("app.Run();");
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TaskSupervisor.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (TaskSupervisor.sln) was not found above " + AppContext.BaseDirectory);
    }
}
