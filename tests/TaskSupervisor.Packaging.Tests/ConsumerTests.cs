namespace TaskSupervision.Packaging.Tests;

/// <summary>
/// The analyzers reach users through the package alone: a throwaway project that references the core package of this
/// run sees their warnings in its build output.
/// </summary>
[Collection(PackedCloneCollection.Name)]
public sealed class ConsumerTests(PackedClone packed)
{
    [Fact]
    public async Task PackedPackage_BringsTheAnalyzers_ToAProjectThatReferencesIt()
    {
        string consumer = Path.Combine(packed.Scratch, "consumer");
        Directory.CreateDirectory(consumer);
        // The feed is added to the machine's default sources, which still serve the package's dependencies.
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="this-build" value="{packed.Feed}" />
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
                <PackageReference Include="TaskSupervisor" Version="{packed.Version}" />
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
        string output = await Command.RunAsync(
            "dotnet", consumer, null, "build", "-c", "Release", $"-p:RestorePackagesPath={Path.Combine(packed.Scratch, "packages")}");

        output.Should().Contain("warning TS0001").And.Contain("Jobs.cs(6,").And.NotContain("Jobs.cs(8,");
    }
}
