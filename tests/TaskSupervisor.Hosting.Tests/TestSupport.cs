using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Hosting.Tests;

/// <summary>A real Generic Host with fake logging (and, on request, a fake clock), for one test.</summary>
internal static class TestHost
{
    public static IHost Build(Action<IServiceCollection> configure, TimeSpan? shutdownTimeout = null, FakeTimeProvider? time = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging();
        if (time is not null)
        {
            builder.Services.AddSingleton<TimeProvider>(time);
        }

        if (shutdownTimeout is TimeSpan timeout)
        {
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        }

        configure(builder.Services);
        return builder.Build();
    }

    public static IReadOnlyList<FakeLogRecord> LogsWithEvent(this IHost host, int eventId) =>
        host.Services.GetFakeLogCollector().LogsWithEvent(eventId);

    /// <summary>For a host that <c>RunAsync</c> disposes: take the collector before it runs.</summary>
    public static IReadOnlyList<FakeLogRecord> LogsWithEvent(this FakeLogCollector logs, int eventId) =>
        logs.GetSnapshot().Where(r => r.Id.Id == eventId).ToList();

    public static string? State(this FakeLogRecord record, string key) => record.GetStructuredStateValue(key);
}

/// <summary>A singleton that refuses writes once the container has disposed it, as a database connection would.</summary>
internal sealed class Ledger : IDisposable
{
    private readonly List<string> _entries = [];
    private bool _disposed;

    public IReadOnlyList<string> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToList();
            }
        }
    }

    public void Write(string entry)
    {
        lock (_entries)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _entries.Add(entry);
        }
    }

    public void Dispose()
    {
        lock (_entries)
        {
            _disposed = true;
        }
    }
}
