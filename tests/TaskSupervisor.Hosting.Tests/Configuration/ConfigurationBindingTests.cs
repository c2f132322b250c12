using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TaskSupervision.Hosting.Tests.Configuration;

/// <summary>Options bind from appsettings-style JSON, named supervisors included; bad values fail at host start (issue 12).</summary>
public sealed class ConfigurationBindingTests : IDisposable
{
    private readonly List<string> _files = [];

    [Fact]
    public void DefaultNamedAndHostingOptions_BindFromAJsonFile()
    {
        using IHost host = Build(Path.Combine(AppContext.BaseDirectory, "Configuration", "appsettings.supervisors.json"));

        IOptionsMonitor<TaskSupervisorOptions> supervisors = host.Services.GetRequiredService<IOptionsMonitor<TaskSupervisorOptions>>();
        TaskSupervisorOptions main = supervisors.Get(Options.DefaultName);
        main.ShutdownTimeout.Should().Be(TimeSpan.FromSeconds(10));
        main.DrainGracePeriod.Should().Be(TimeSpan.FromSeconds(2));
        main.MaxConcurrency.Should().Be(4);
        main.MaxPending.Should().Be(100);
        main.DefaultRestartPolicy.Should().NotBeNull();
        main.DefaultRestartPolicy!.Mode.Should().Be(RestartMode.Always, "enums bind from their names");
        main.DefaultRestartPolicy.InitialDelay.Should().Be(TimeSpan.FromSeconds(5));
        main.DefaultRestartPolicy.MaxRestarts.Should().Be(3);
        main.DefaultRestartPolicy.Jitter.Should().Be(0);
        main.DefaultRestartPolicy.Window.Should().Be(TimeSpan.FromMinutes(1), "unset values keep their defaults");

        TaskSupervisorOptions emails = supervisors.Get("emails");
        emails.MaxConcurrency.Should().Be(2);
        emails.ShutdownTimeout.Should().Be(TimeSpan.FromSeconds(5));
        emails.DefaultRestartPolicy.Should().BeNull("a named supervisor binds its own section only");

        TaskSupervisorHostingOptions hosting = host.Services.GetRequiredService<IOptions<TaskSupervisorHostingOptions>>().Value;
        hosting.DrainTimeout.Should().Be(TimeSpan.FromSeconds(20));
        hosting.CriticalTaskFailure.Should().Be(CriticalTaskFailureBehavior.StopHost);
        hosting.CriticalFailureExitCode.Should().Be(3);

        host.Services.GetRequiredService<ITaskSupervisor>().Name.Should().Be("default");
        host.Services.GetRequiredKeyedService<ITaskSupervisor>("emails").Name.Should().Be("emails");
    }

    [Fact]
    public async Task BadSupervisorSettings_FailHostStart_InOneOptionsValidationException_NamingEachConfigurationPath()
    {
        string file = WriteJson("""
            {
              "TaskSupervisor": {
                "ShutdownTimeout": "-00:00:05",
                "MaxConcurrency": 0,
                "MaxPending": -1,
                "DefaultRestartPolicy": { "Jitter": 2, "InitialDelay": "00:00:10", "MaxDelay": "00:00:01" }
              }
            }
            """);
        using IHost host = Build(file, named: false, hosting: false);

        OptionsValidationException exception = (await host.Awaiting(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        exception.OptionsType.Should().Be(typeof(TaskSupervisorOptions));
        exception.Failures.Should().HaveCount(5);
        exception.Failures.Should().Contain(f => f.StartsWith("TaskSupervisor:ShutdownTimeout = ", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:MaxConcurrency = 0", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:MaxPending = -1", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:DefaultRestartPolicy:Jitter = 2", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:DefaultRestartPolicy:MaxDelay = ", StringComparison.Ordinal) && f.Contains("TaskSupervisor:DefaultRestartPolicy:InitialDelay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadNamedSupervisorSetting_IsNamedByItsOwnPath()
    {
        string file = WriteJson("""
            { "TaskSupervisors": { "emails": { "DrainGracePeriod": "60.00:00:00" } } }
            """);
        using IHost host = Build(file, main: false, hosting: false);

        OptionsValidationException exception = (await host.Awaiting(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        exception.OptionsName.Should().Be("emails");
        exception.Failures.Should().ContainSingle().Which.Should().StartWith("TaskSupervisors:emails:DrainGracePeriod = 60.00:00:00: ").And.Contain("limit of .NET timers");
    }

    [Fact]
    public async Task BadHostingSettings_FailHostStart_NamingTheirPaths()
    {
        string file = WriteJson("""
            { "TaskSupervisor": { "Hosting": { "DrainTimeout": "-00:00:01", "CriticalFailureExitCode": 0 } } }
            """);
        using IHost host = Build(file, main: false, named: false);

        OptionsValidationException exception = (await host.Awaiting(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        exception.Failures.Should().HaveCount(2)
            .And.Contain(f => f.StartsWith("TaskSupervisor:Hosting:DrainTimeout = ", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:Hosting:CriticalFailureExitCode = 0", StringComparison.Ordinal));
    }

    [Fact]
    public void CodeAfterBinding_WinsOverTheFile()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "Configuration", "appsettings.supervisors.json")).Build();
        using ServiceProvider provider = new ServiceCollection()
            .AddTaskSupervisor(configuration.GetSection("TaskSupervisor"), o => o.MaxConcurrency = 7)
            .BuildServiceProvider();

        TaskSupervisorOptions options = provider.GetRequiredService<IOptions<TaskSupervisorOptions>>().Value;

        options.MaxConcurrency.Should().Be(7);
        options.ShutdownTimeout.Should().Be(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void BindingTwice_RegistersOneSupervisor()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "Configuration", "appsettings.supervisors.json")).Build();
        var services = new ServiceCollection()
            .AddTaskSupervisor(configuration.GetSection("TaskSupervisor"))
            .AddTaskSupervisor(configuration.GetSection("TaskSupervisor"));

        services.Count(d => d.ServiceType == typeof(ITaskSupervisor)).Should().Be(1);
    }

    public void Dispose()
    {
        foreach (string file in _files)
        {
            File.Delete(file);
        }
    }

    private static IHost Build(string jsonFile, bool main = true, bool named = true, bool hosting = true)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonFile(jsonFile);
        if (hosting)
        {
            builder.Services.AddTaskSupervisorHosting(builder.Configuration.GetSection("TaskSupervisor:Hosting"));
        }

        if (main)
        {
            builder.Services.AddTaskSupervisor(builder.Configuration.GetSection("TaskSupervisor"));
        }

        if (named)
        {
            builder.Services.AddTaskSupervisor("emails", builder.Configuration.GetSection("TaskSupervisors:emails"));
        }

        return builder.Build();
    }

    private string WriteJson(string json)
    {
        string file = Path.Combine(Path.GetTempPath(), $"taskSupervisor-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        _files.Add(file);
        return file;
    }
}
