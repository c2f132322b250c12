namespace TaskSupervision.Hangfire;

/// <summary>
/// What a delivery of durable work knows about itself: its key, its stored job, and which delivery this is. Read it
/// with <see cref="Current"/> from inside the work's method, to make the work idempotent: a delivery after the first may
/// follow one that was interrupted part-way (a crash, an expired lease) or one that failed.
/// </summary>
public sealed class DurableWorkContext
{
    private static readonly AsyncLocal<DurableWorkContext?> CurrentContext = new();

    internal DurableWorkContext(string key, string jobId, int delivery, bool isInProcess)
    {
        Key = key;
        JobId = jobId;
        Delivery = delivery;
        IsInProcess = isInProcess;
    }

    /// <summary>
    /// The context of the durable work running on this asynchronous flow, or <see langword="null"/> outside durable work
    /// (and in a Hangfire server that did not call <c>AddDurableWork</c>, which registers the filter that sets it).
    /// </summary>
    public static DurableWorkContext? Current
    {
        get => CurrentContext.Value;
        internal set => CurrentContext.Value = value;
    }

    /// <summary>The key the work was started under.</summary>
    public string Key { get; }

    /// <summary>The id of the Hangfire job that stores the work.</summary>
    public string JobId { get; }

    /// <summary>
    /// Which delivery this is, from 1: every run of the work counts, in process (the first run and each restart) and by
    /// any Hangfire server (after a hand-off, a crash or an expired lease, and each of Hangfire's retries). A value above 1
    /// means an earlier delivery may have done part or all of the work.
    /// </summary>
    public int Delivery { get; }

    /// <summary>
    /// <see langword="true"/> when the work runs in the process that started it, under its supervisor;
    /// <see langword="false"/> when a Hangfire server runs it.
    /// </summary>
    public bool IsInProcess { get; }
}
