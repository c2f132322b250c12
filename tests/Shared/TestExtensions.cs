using FluentAssertions;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Testing;

/// <summary>Waits and clock moves shared by every test project (linked into each by tests/Directory.Build.props).</summary>
internal static class TestExtensions
{
    /// <summary>A bound on every wait in the tests: a hang fails the test instead of the run. Never a way to let things settle.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static Task Within(this Task task) => task.WaitAsync(Bound);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Bound);

    /// <summary>
    /// Advances the fake clock by <paramref name="step"/> until <paramref name="condition"/> holds, yielding to the thread pool
    /// between steps. With <paramref name="advanceOnlyWhen"/>, the clock moves only while it holds (for example while a task
    /// waits out a backoff), so a slow machine never lets fake time run ahead of the work. Bounded by <see cref="Bound"/> of
    /// real time: a hang fails the test.
    /// </summary>
    public static async Task AdvanceUntil(this FakeTimeProvider time, Func<bool> condition, TimeSpan step, Func<bool>? advanceOnlyWhen = null)
    {
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!condition() && bound.Elapsed < Bound)
        {
            if (advanceOnlyWhen is null || advanceOnlyWhen())
            {
                time.Advance(step);
            }

            await Task.Yield();
        }

        condition().Should().BeTrue("the condition should hold within {0} of real time", Bound);
    }
}
