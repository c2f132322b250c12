using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TaskSupervision.HealthChecks.Tests;

/// <summary>The check's thresholds bind from appsettings-style JSON; bad ones are reported by path (issue 12).</summary>
public sealed class ConfigurationBindingTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"taskSupervisor-health-{Guid.NewGuid():N}.json");

    [Fact]
    public void Thresholds_BindFromAJsonFile()
    {
        File.WriteAllText(_file, """
            { "TaskSupervisor": { "HealthCheck": { "Window": "00:10:00", "UnhealthyFaultedShare": 0.25, "MinimumEnded": 4, "MaxTaskAge": "00:02:00", "UnhealthyOnGaveUp": false } } }
            """);
        IConfiguration configuration = new ConfigurationBuilder().AddJsonFile(_file).Build();
        var services = new ServiceCollection().AddTaskSupervisor();
        services.AddHealthChecks().AddTaskSupervisor(configuration.GetSection("TaskSupervisor:HealthCheck"), name: "jobs");
        using ServiceProvider provider = services.BuildServiceProvider();

        TaskSupervisorHealthCheckOptions options = provider.GetRequiredService<IOptionsMonitor<TaskSupervisorHealthCheckOptions>>().Get("jobs");

        options.Window.Should().Be(TimeSpan.FromMinutes(10));
        options.UnhealthyFaultedShare.Should().Be(0.25);
        options.MinimumEnded.Should().Be(4);
        options.MaxTaskAge.Should().Be(TimeSpan.FromMinutes(2));
        options.UnhealthyOnGaveUp.Should().BeFalse();
        options.DegradedPendingShare.Should().Be(0.8, "unset values keep their defaults");
    }

    [Fact]
    public void BadThresholds_AreReportedTogether_EachByItsConfigurationPath()
    {
        File.WriteAllText(_file, """
            { "TaskSupervisor": { "HealthCheck": { "Window": "00:00:00", "UnhealthyFaultedShare": 1.5, "MinimumEnded": 0 } } }
            """);
        IConfiguration configuration = new ConfigurationBuilder().AddJsonFile(_file).Build();
        var services = new ServiceCollection().AddTaskSupervisor();
        services.AddHealthChecks().AddTaskSupervisor(configuration.GetSection("TaskSupervisor:HealthCheck"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException exception = FluentActions
            .Invoking(() => provider.GetRequiredService<IOptionsMonitor<TaskSupervisorHealthCheckOptions>>().Get(CheckHarness.CheckName))
            .Should().Throw<OptionsValidationException>().Which;

        exception.Failures.Should().HaveCount(3)
            .And.Contain(f => f.StartsWith("TaskSupervisor:HealthCheck:Window = ", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:HealthCheck:UnhealthyFaultedShare = 1.5", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("TaskSupervisor:HealthCheck:MinimumEnded = 0", StringComparison.Ordinal));
    }

    public void Dispose() => File.Delete(_file);
}
