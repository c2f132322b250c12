using System.Diagnostics;

namespace TaskSupervision.Analyzers.Tests;

/// <summary>
/// The analyzers reach users through the package alone: pack the TaskSupervisor project this test run built, reference
/// the package from a throwaway project, and see the warnings in its build output.
/// </summary>
public class PackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly TimeSpan CommandBound = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task PackedPackage_BringsTheAnalyzers_ToAProjectThatReferencesIt()
    {
        string root = RuleMetadataTests.RepositoryRoot();
        DirectoryInfo work = Directory.CreateTempSubdirectory("tasksupervisor-package-");
        try
        {
            // A version of its own, so that no package cached by an earlier run can stand in for this build.
            string version = "0.0.0-test." + Guid.NewGuid().ToString("N")[..12];
            string feed = Path.Combine(work.FullName, "feed");
            await Dotnet(root, "pack", Path.Combine("src", "TaskSupervisor", "TaskSupervisor.csproj"), "-c", Configuration, "--no-build", "-o", feed, $"-p:Version={version}");

            string consumer = Path.Combine(work.FullName, "consumer");
            Directory.CreateDirectory(consumer);
            // The local folder is added to the machine's default sources, which still serve the package's dependencies.
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="this-build" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TaskSupervisor" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(consumer, "Jobs.cs"), """
                using System.Threading.Tasks;
                using TaskSupervision;

                public class Jobs(ITaskSupervisor supervisor)
                {
                    public void Leak() => Task.Run(() => { });

                    public void Supervised() => supervisor.Run(ct => Task.CompletedTask);
                }
                """);

            // A packages folder of its own: the test leaves nothing behind in the machine's global packages folder.
            string output = await Dotnet(consumer, "build", "-c", "Release", $"-p:RestorePackagesPath={Path.Combine(work.FullName, "packages")}");

            Assert.Contains("warning TS0001", output, StringComparison.Ordinal);
            Assert.Contains("Jobs.cs(6,", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Jobs.cs(8,", output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<string> Dotnet(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(CommandBound);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output}");
        return output;
    }
}
