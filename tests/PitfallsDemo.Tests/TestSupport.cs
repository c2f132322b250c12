using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

// The broken monitor loops and their counter are process-wide (that is the pitfall): tests run one at a time so that
// each one's counts are its own.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace PitfallsDemo.Tests;

internal static class Limits
{
    /// <summary>The bound of every wait in these tests.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
}

/// <summary>A <see cref="FakeTimeProvider"/> that reports each timer created, so that a test advances the clock only once the work is waiting on it.</summary>
internal sealed class WatchedFakeTime : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits until <paramref name="count"/> more timers due in <paramref name="dueTime"/> have been created; others are skipped.</summary>
    public async Task WaitForTimersAsync(TimeSpan dueTime, int count = 1)
    {
        for (int seen = 0; seen < count;)
        {
            TimeSpan due = await _created.Reader.ReadAsync().AsTask().WaitAsync(Limits.Wait);
            if (due == dueTime)
            {
                seen++;
            }
        }
    }
}

/// <summary>
/// The demo app in a test server, its clock a <see cref="WatchedFakeTime"/>; with <c>testSupervisor</c>, its default
/// supervisor is a <see cref="TaskSupervision.Testing.TestSupervisor"/> (the testing kit), which keeps the app's own settings.
/// </summary>
internal sealed class DemoFactory(bool testSupervisor = false) : WebApplicationFactory<Program>
{
    public WatchedFakeTime Time { get; } = new();

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    public async Task<T> PostAsync<T>(string path)
    {
        using HttpClient client = CreateClient();
        using HttpResponseMessage response = await client.PostAsync(path, content: null).WaitAsync(Limits.Wait);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    public async Task<T> GetAsync<T>(string path)
    {
        using HttpClient client = CreateClient();
        return (await client.GetFromJsonAsync<T>(path).WaitAsync(Limits.Wait))!;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            if (testSupervisor)
            {
                TaskSupervision.Testing.TestSupervisorServiceCollectionExtensions.AddTestSupervisor(services);
            }
        });
}
