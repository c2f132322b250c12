using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo.Pitfalls;

/// <summary>What the register routes answer.</summary>
internal sealed record Registration(string Email, bool Registered, string WelcomeEmail, string? TaskKey);

/// <summary>
/// Pitfall 2: silent failure. The welcome email is background work, so the client rightly gets its 200 at once; but when
/// the email step throws, the broken routes lose the exception: no log line, no count, no retry.
/// </summary>
internal static class SilentFailures
{
    // Duplicate registrations of one address share one email: UseExisting returns the running send.
    private static readonly TaskOptions EmailOptions = new() { Name = "welcome-email", IfKeyRunning = KeyConflictBehavior.UseExisting };

    public static RouteGroupBuilder MapSilentFailures(this IEndpointRouteBuilder routes)
    {
        RouteGroupBuilder group = routes.MapGroup("").WithTags("2. Silent failure");

        // Broken: the Task that carries the exception is discarded. Nothing logs it and nothing counts it; the
        // exception is, at most, raised as TaskScheduler.UnobservedTaskException whenever the garbage collector gets to it.
        group.MapPost("/broken/register", (string email, Mailer mailer) =>
        {
#pragma warning disable TS0001 // deliberately broken: pitfall 2
            _ = Task.Run(() => mailer.SendWelcomeAsync(email, CancellationToken.None));
#pragma warning restore TS0001
            return new Registration(email, Registered: true, WelcomeEmail: "sending", TaskKey: null);
        });

        // Broken, async void variant: the caller cannot even hold a Task. Worse than silent: in ASP.NET Core (no
        // SynchronizationContext) an exception escaping an async void method is rethrown on the thread pool and
        // terminates the process (the tour shows it in a separate copy of the app).
        group.MapPost("/broken/register-async-void", (string email, Mailer mailer) =>
        {
            SendWelcomeAndForget(mailer, email);
            return new Registration(email, Registered: true, WelcomeEmail: "sending", TaskKey: null);
        });

        // Fixed: the supervisor observes the fault, logs it (event TaskFaulted, with the task's key) and passes it to
        // OnTaskEnded, which records it in the failed-jobs list (see Program.cs). The client still gets its 200 at once.
        group.MapPost("/fixed/register", (string email, Mailer mailer, ITaskSupervisor supervisor) =>
        {
            SupervisedTask send = supervisor.Run("email:" + email, ct => mailer.SendWelcomeAsync(email, ct), EmailOptions);
            return new Registration(email, Registered: true, WelcomeEmail: "queued", send.Key);
        });

        // The fixed side's dead-letter queue.
        group.MapGet("/failed-jobs", (FailedJobs jobs) => jobs.Snapshot());

        return group;
    }

#pragma warning disable TS0002 // deliberately broken: pitfall 2
    private static async void SendWelcomeAndForget(Mailer mailer, string email) =>
        await mailer.SendWelcomeAsync(email, CancellationToken.None);
#pragma warning restore TS0002
}
