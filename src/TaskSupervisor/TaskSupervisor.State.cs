using System.Diagnostics.CodeAnalysis;
using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>The state-passing starts: the work receives a state and a <see cref="TaskContext"/>, and needs no closure.</summary>
public sealed partial class TaskSupervisor
{
    /// <inheritdoc />
    public SupervisedTask Run<TState>(TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        return StartCore(new StatefulSupervisedTask<TState>(this, key: null, state, work, options), KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }

    /// <inheritdoc />
    public SupervisedTask Run<TState>(string key, TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        return StartCore(new StatefulSupervisedTask<TState>(this, key, state, work, options), options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }

    /// <inheritdoc />
    public bool TryRun<TState>(TState state, Func<TState, TaskContext, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "TryRun");
        task = StartCore(new StatefulSupervisedTask<TState>(this, key: null, state, work, options), KeyConflictBehavior.Reject, throwOnRefusal: false, Reservation.None, out refusal);
        return task is not null;
    }

    /// <inheritdoc />
    public bool TryRun<TState>(string key, TState state, Func<TState, TaskContext, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "TryRun");
        var created = new StatefulSupervisedTask<TState>(this, key, state, work, options);
        task = StartCore(created, KeyConflictBehavior.UseExisting, throwOnRefusal: false, Reservation.None, out refusal);
        return ReferenceEquals(task, created);
    }

    /// <inheritdoc />
    public async ValueTask<SupervisedTask> RunAsync<TState>(TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        Reservation reservation = await ReserveAsync(cancellationToken).ConfigureAwait(false);
        SupervisedTask created;
        try
        {
            created = new StatefulSupervisedTask<TState>(this, key: null, state, work, options);
        }
        catch (ArgumentException)
        {
            Limiter?.Unreserve(reservation);
            throw;
        }

        return StartCore(created, KeyConflictBehavior.Reject, throwOnRefusal: true, reservation, out _)!;
    }

    /// <inheritdoc />
    public async ValueTask<SupervisedTask> RunAsync<TState>(string key, TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        Reservation reservation = await ReserveAsync(cancellationToken).ConfigureAwait(false);
        SupervisedTask created;
        try
        {
            created = new StatefulSupervisedTask<TState>(this, key, state, work, options);
        }
        catch (ArgumentException)
        {
            Limiter?.Unreserve(reservation);
            throw;
        }

        return StartCore(created, options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, reservation, out _)!;
    }
}
