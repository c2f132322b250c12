using System.Runtime.InteropServices;

namespace TaskSupervision;

/// <summary>
/// What the work of a state-passing start (<see cref="ITaskSupervisor.Run{TState}(TState, Func{TState, TaskContext, Task}, TaskOptions?)"/>)
/// learns about itself: its cancellation token, its handle, its key and id, and which attempt this is.
/// </summary>
/// <remarks>
/// <para>Passed as an argument, not kept in an <see cref="AsyncLocal{T}"/>: writing an async-local on every start would
/// copy the execution context of every task, the start path's largest cost. A readonly struct, so that members can be
/// added later without breaking anyone; it is created once per attempt, on the attempt's thread, and costs no allocation.</para>
/// <para>The default value (<c>default(TaskContext)</c>) describes no task: its <see cref="Task"/> is <see langword="null"/>.</para>
/// </remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct TaskContext
{
    internal TaskContext(SupervisedTask task, int attempt, CancellationToken cancellationToken)
    {
        Task = task;
        CancellationToken = cancellationToken;
        Attempt = attempt;
    }

    /// <summary>The token of this attempt: cancelled when the task is cancelled, replaced or drained, or the attempt times out.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The task's own handle, the one its start returned.</summary>
    public SupervisedTask Task { get; }

    /// <summary>The key the task was started under, or <see langword="null"/> for unkeyed work.</summary>
    public string? Key => Task?.Key;

    /// <summary>The task's id, unique within its supervisor.</summary>
    public long Id => Task?.Id ?? 0;

    /// <summary>Which attempt of the work this is: 1 for the first run, 2 after the first restart, and so on.</summary>
    /// <remarks>Equal to <see cref="SupervisedTask.RestartCount"/> + 1 when the attempt began.</remarks>
    public int Attempt { get; }

    /// <inheritdoc />
    public override string ToString() => $"task #{Id} key={Key ?? "-"} attempt {Attempt}";
}
