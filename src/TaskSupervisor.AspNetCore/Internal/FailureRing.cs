using System.Diagnostics;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>One failed task as the failure ring keeps it: copies of its texts, never the exception or the task itself.</summary>
internal sealed record FailureRecord(
    DateTimeOffset EndedAt,
    long Id,
    string? Key,
    string? Name,
    SupervisedTaskStatus Status,
    bool GaveUp,
    int RestartCount,
    TimeSpan Elapsed,
    string ExceptionType,
    string Message,
    string? Details);

/// <summary>
/// The last N failed tasks of one supervisor, newest first: a fixed array written round, so memory is constant (N records,
/// each with texts cut to a bounded length) however many tasks fail.
/// </summary>
internal sealed class FailureRing
{
    private readonly Lock _lock = new();
    private readonly FailureRecord?[] _records;
    private long _written;

    public FailureRing(int capacity)
    {
        Debug.Assert(capacity > 0, "The options validator admits only a positive capacity.");
        _records = new FailureRecord?[capacity];
    }

    /// <summary>How many failures were ever recorded; a reader compares it with the value it last saw to skip unchanged rings.</summary>
    public long Version => Volatile.Read(ref _written);

    public void Add(FailureRecord record)
    {
        lock (_lock)
        {
            _records[_written % _records.Length] = record;

            // Published after the slot is written; readers that see the new version under the lock see the record too.
            Volatile.Write(ref _written, _written + 1);
        }
    }

    /// <summary>Copies the kept failures, newest first.</summary>
    public FailureRecord[] Snapshot()
    {
        lock (_lock)
        {
            int count = (int)Math.Min(_written, _records.Length);
            FailureRecord[] copy = new FailureRecord[count];
            for (int i = 0; i < count; i++)
            {
                copy[i] = _records[(_written - 1 - i) % _records.Length]!;
            }

            return copy;
        }
    }
}
