using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace TaskSupervision.Internal;

/// <summary>
/// The keys of a supervisor's keyed tasks: which task holds each key. Lock-free (one <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// operation per step). A key is released only by the task that holds it, so that a successor which took it over keeps it.
/// </summary>
internal sealed class KeyTable
{
    private readonly ConcurrentDictionary<string, SupervisedTask> _keys = new(StringComparer.Ordinal);

    public bool TryAdd(string key, SupervisedTask task) => _keys.TryAdd(key, task);

    public bool TryGetValue(string key, [NotNullWhen(true)] out SupervisedTask? task) => _keys.TryGetValue(key, out task);

    /// <summary>Hands the key from <paramref name="current"/> to <paramref name="task"/>, if it is still held by <paramref name="current"/>.</summary>
    public bool TryUpdate(string key, SupervisedTask task, SupervisedTask current) => _keys.TryUpdate(key, task, current);

    /// <summary>Releases the task's key, only if the key still maps to this task: a successor may already own it.</summary>
    public void Release(SupervisedTask task)
    {
        if (task.Key is { } key)
        {
            _keys.TryRemove(new KeyValuePair<string, SupervisedTask>(key, task));
        }
    }
}
